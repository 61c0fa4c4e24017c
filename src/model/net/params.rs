//! A layer's parameters as plain arrays: what adapting the top layers trains, interpolates,
//! saves and loads (`model::adapt`). Kept apart from the forward pass in `net`.

use candle_core::{Device, Tensor};

use super::{with_slice, Linear, Norm, Transformer};
use crate::model::error::{ModelError, Result};

impl Transformer {
    /// Parameters of layer `l` as plain arrays, in [`LayerParams::NAMES`] order.
    pub fn layer_params(&self, l: usize) -> Result<LayerParams> {
        let layer = &self.layers[l];
        let w = |lin: &Linear| with_slice(&lin.w, <[f32]>::to_vec);
        let data = vec![
            w(&layer.qkv)?,
            layer.qkv.b.clone(),
            w(&layer.out)?,
            layer.out.b.clone(),
            layer.norm1.gamma.clone(),
            layer.norm1.beta.clone(),
            w(&layer.up)?,
            layer.up.b.clone(),
            w(&layer.down)?,
            layer.down.b.clone(),
            layer.norm2.gamma.clone(),
            layer.norm2.beta.clone(),
        ];
        Ok(LayerParams(
            data.into_iter().zip(self.layer_shapes(l)).collect(),
        ))
    }

    /// Shapes of layer `l`'s parameters, in [`LayerParams::NAMES`] order (without copying them).
    fn layer_shapes(&self, l: usize) -> Vec<Vec<usize>> {
        let layer = &self.layers[l];
        let w = |lin: &Linear| lin.w.dims().to_vec();
        let v = |x: &[f32]| vec![x.len()];
        vec![
            w(&layer.qkv),
            v(&layer.qkv.b),
            w(&layer.out),
            v(&layer.out.b),
            v(&layer.norm1.gamma),
            v(&layer.norm1.beta),
            w(&layer.up),
            v(&layer.up.b),
            w(&layer.down),
            v(&layer.down.b),
            v(&layer.norm2.gamma),
            v(&layer.norm2.beta),
        ]
    }

    /// Whether `p` has the shapes of layer `l`'s parameters.
    pub fn check_layer_params(&self, l: usize, p: &LayerParams) -> Result<()> {
        let shapes = self.layer_shapes(l);
        for (i, name) in LayerParams::NAMES.iter().enumerate() {
            let found = p.0.get(i).map(|(_, s)| s.clone()).unwrap_or_default();
            let expected = &shapes[i];
            if &found != expected
                || p.0
                    .get(i)
                    .is_some_and(|(d, _)| d.len() != expected.iter().product::<usize>())
            {
                return Err(ModelError::TensorShape {
                    tensor: format!("layer.{l}.{name}"),
                    found,
                    expected: expected.clone(),
                });
            }
        }
        Ok(())
    }

    /// Replaces layer `l`'s parameters (same shapes as [`Transformer::layer_params`] gives).
    pub fn set_layer_params(&mut self, l: usize, p: LayerParams) -> Result<()> {
        self.check_layer_params(l, &p)?;
        let mut it = p.0.into_iter().map(|(data, _)| data);
        let mut next = || it.next().unwrap_or_default();
        let layer = &mut self.layers[l];
        let lin = |lin: &mut Linear, w: Vec<f32>, b: Vec<f32>| -> Result<()> {
            let dims = lin.w.dims().to_vec();
            lin.w = Tensor::from_vec(w, dims, &Device::Cpu)?;
            lin.b = b;
            lin.quantize(lin.q.is_some())
        };
        lin(&mut layer.qkv, next(), next())?;
        lin(&mut layer.out, next(), next())?;
        layer.norm1 = Norm {
            gamma: next(),
            beta: next(),
        };
        lin(&mut layer.up, next(), next())?;
        lin(&mut layer.down, next(), next())?;
        layer.norm2 = Norm {
            gamma: next(),
            beta: next(),
        };
        Ok(())
    }
}

/// One layer's parameters, `(data, shape)` each, in [`LayerParams::NAMES`] order: the stacked
/// query/key/value projection, the attention output, its layer norm, the feed-forward up and
/// down projections and their layer norm (weights `(out, in)` as PyTorch stores them).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParams(pub Vec<(Vec<f32>, Vec<usize>)>);

impl LayerParams {
    pub const NAMES: [&'static str; 12] = [
        "qkv.weight",
        "qkv.bias",
        "out.weight",
        "out.bias",
        "norm1.weight",
        "norm1.bias",
        "up.weight",
        "up.bias",
        "down.weight",
        "down.bias",
        "norm2.weight",
        "norm2.bias",
    ];
}

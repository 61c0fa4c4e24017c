//! A layer's parameters as plain arrays: what adapting the top layers trains, interpolates,
//! saves and loads (`model::adapt`). Kept apart from the forward pass in `net`.

use candle_core::{Device, Tensor};

use super::{with_slice, Linear, Norm, Transformer};
use crate::model::error::{ModelError, Result};

impl Transformer {
    /// Parameters of layer `l` as plain arrays, in [`LayerParams::NAMES`] order.
    pub fn layer_params(&self, l: usize) -> Result<LayerParams> {
        let parts = self
            .layer_parts(l)
            .into_iter()
            .map(|p| Ok((p.data()?, p.shape())));
        Ok(LayerParams(parts.collect::<Result<_>>()?))
    }

    /// Shapes of layer `l`'s parameters, in [`LayerParams::NAMES`] order (without copying them).
    fn layer_shapes(&self, l: usize) -> Vec<Vec<usize>> {
        self.layer_parts(l).iter().map(Part::shape).collect()
    }

    /// Layer `l`'s parameters, borrowed, in [`LayerParams::NAMES`] order: the one list both
    /// of the above read.
    fn layer_parts(&self, l: usize) -> [Part<'_>; 12] {
        use Part::{Vector as V, Weight as W};
        let y = &self.layers[l];
        [
            W(&y.qkv),
            V(&y.qkv.b),
            W(&y.out),
            V(&y.out.b),
            V(&y.norm1.gamma),
            V(&y.norm1.beta),
            W(&y.up),
            V(&y.up.b),
            W(&y.down),
            V(&y.down.b),
            V(&y.norm2.gamma),
            V(&y.norm2.beta),
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
            // The packed copy is of the old weights: the next product packs the new ones.
            lin.packed = std::sync::OnceLock::new();
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

/// A parameter of a layer: a linear layer's weight (a tensor) or a vector.
enum Part<'a> {
    Weight(&'a Linear),
    Vector(&'a [f32]),
}

impl Part<'_> {
    fn shape(&self) -> Vec<usize> {
        match self {
            Part::Weight(lin) => lin.w.dims().to_vec(),
            Part::Vector(v) => vec![v.len()],
        }
    }

    fn data(&self) -> Result<Vec<f32>> {
        match self {
            Part::Weight(lin) => with_slice(&lin.w, <[f32]>::to_vec),
            Part::Vector(v) => Ok(v.to_vec()),
        }
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

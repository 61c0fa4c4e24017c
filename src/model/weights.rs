//! Reading `model.safetensors` one tensor at a time.
//!
//! Tensors are read straight from the file into their final `Vec<f32>` instead of going
//! through a whole-file buffer or mmap, so peak memory stays at the size of the weights we keep
//! (the 250k-row embedding table of multilingual models would otherwise be held twice).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{ModelError, Result};

#[derive(Debug, Clone)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    start: u64,
    end: u64,
}

pub struct SafeTensors {
    path: PathBuf,
    file: File,
    data_start: u64,
    entries: HashMap<String, Entry>,
}

/// Header larger than this is certainly not a model header (and would be a DoS on read).
const MAX_HEADER: u64 = 100 * 1024 * 1024;

impl SafeTensors {
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| ModelError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| ModelError::io(path, e))?.len();
        let mut len_buf = [0u8; 8];
        file.read_exact(&mut len_buf)
            .map_err(|_| ModelError::invalid(path, "not a safetensors file (too short)"))?;
        let header_len = u64::from_le_bytes(len_buf);
        if header_len > MAX_HEADER || header_len + 8 > file_len {
            return Err(ModelError::invalid(
                path,
                "not a safetensors file (bad header length)",
            ));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)
            .map_err(|e| ModelError::io(path, e))?;
        let v: Value = serde_json::from_slice(&header)
            .map_err(|e| ModelError::invalid(path, format!("safetensors header: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| ModelError::invalid(path, "safetensors header is not an object"))?;
        let data_start = 8 + header_len;
        let mut entries = HashMap::new();
        for (name, info) in obj {
            if name == "__metadata__" {
                continue;
            }
            let bad = |what: &str| ModelError::invalid(path, format!("tensor `{name}`: {what}"));
            let dtype = info
                .get("dtype")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no dtype"))?
                .to_string();
            let shape = info
                .get("shape")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("no shape"))?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("bad shape"))?;
            let offs = info
                .get("data_offsets")
                .and_then(Value::as_array)
                .and_then(|a| Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?)))
                .ok_or_else(|| bad("bad data_offsets"))?;
            // Offsets come from the file: checked so a corrupt header cannot overflow the sum.
            if offs.0 > offs.1
                || data_start
                    .checked_add(offs.1)
                    .is_none_or(|end| end > file_len)
            {
                return Err(bad("data_offsets outside the file"));
            }
            entries.insert(
                name.clone(),
                Entry {
                    dtype,
                    shape,
                    start: offs.0,
                    end: offs.1,
                },
            );
        }
        Ok(SafeTensors {
            path: path.to_path_buf(),
            file,
            data_start,
            entries,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.entries.get(name).map(|e| e.shape.as_slice())
    }

    /// Checks every floating-point requirement up front so a bad file fails before we spend
    /// seconds reading hundreds of megabytes.
    pub fn check_dtype(&self, name: &str) -> Result<()> {
        let e = self.entry(name)?;
        match e.dtype.as_str() {
            "F32" | "F16" | "BF16" => Ok(()),
            other => Err(ModelError::UnsupportedDtype {
                tensor: name.to_string(),
                dtype: other.to_string(),
                path: self.path.clone(),
            }),
        }
    }

    fn entry(&self, name: &str) -> Result<&Entry> {
        self.entries
            .get(name)
            .ok_or_else(|| ModelError::MissingTensor {
                tensor: name.to_string(),
                path: self.path.clone(),
            })
    }

    /// Reads tensor `name` as f32, checking it has `expected` shape.
    pub fn read_f32(&mut self, name: &str, expected: &[usize]) -> Result<Vec<f32>> {
        self.check_dtype(name)?;
        let e = self.entry(name)?.clone();
        if e.shape != expected {
            return Err(ModelError::TensorShape {
                tensor: name.to_string(),
                found: e.shape,
                expected: expected.to_vec(),
            });
        }
        let n: usize = e.shape.iter().product();
        let elem = if e.dtype == "F32" { 4 } else { 2 };
        if e.end - e.start != (n * elem) as u64 {
            return Err(ModelError::invalid(
                &self.path,
                format!("tensor `{name}`: byte length does not match shape"),
            ));
        }
        self.file
            .seek(SeekFrom::Start(self.data_start + e.start))
            .map_err(|err| ModelError::io(&self.path, err))?;
        let path = self.path.clone();
        let read_err = |err| ModelError::io(&path, err);
        match e.dtype.as_str() {
            "F32" => {
                let mut out = vec![0f32; n];
                self.file
                    .read_exact(bytemuck::cast_slice_mut(&mut out))
                    .map_err(read_err)?;
                if cfg!(target_endian = "big") {
                    for x in &mut out {
                        *x = f32::from_bits(x.to_bits().swap_bytes());
                    }
                }
                Ok(out)
            }
            dtype => {
                let mut raw = vec![0u16; n];
                self.file
                    .read_exact(bytemuck::cast_slice_mut(&mut raw))
                    .map_err(read_err)?;
                let raw = raw.into_iter().map(u16::from_le);
                Ok(if dtype == "F16" {
                    raw.map(|b| half::f16::from_bits(b).to_f32()).collect()
                } else {
                    raw.map(|b| half::bf16::from_bits(b).to_f32()).collect()
                })
            }
        }
    }
}

/// Hex sha256 of a file (see [`crate::util::sha256_file`]).
pub fn sha256_file(path: &Path) -> Result<String> {
    crate::util::sha256_file(path).map_err(|e| ModelError::io(path, e))
}

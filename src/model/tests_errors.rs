//! Each way a model directory can be wrong produces a typed error that names the culprit.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use super::tests::build;
use super::tiny::{TinyArch, TinySpec};
use super::*;

fn load_err(dir: &std::path::Path) -> ModelError {
    match TransformerEncoder::load(dir, &EncoderConfig::default()) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn missing_files_are_named() {
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        let dir = build(&TinySpec::new(TinyArch::Bert));
        std::fs::remove_file(dir.path().join(file)).expect("rm");
        let err = load_err(dir.path());
        match &err {
            ModelError::MissingFile { path } => assert!(path.ends_with(file)),
            other => panic!("{file}: {other:?}"),
        }
        assert!(err.to_string().contains(file), "{err}");
    }
}

#[test]
fn unsupported_architecture_is_named_with_alternatives() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let path = dir.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    cfg["architectures"] = serde_json::json!(["GPT2LMHeadModel"]);
    cfg["model_type"] = serde_json::json!("gpt2");
    std::fs::write(&path, cfg.to_string()).expect("write");
    let err = load_err(dir.path());
    assert!(
        matches!(err, ModelError::UnsupportedArchitecture { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("GPT2LMHeadModel"), "{msg}");
    assert!(msg.contains("BertModel") && msg.contains("XLMRobertaForSequenceClassification"));

    cfg.as_object_mut().expect("object").remove("architectures");
    std::fs::write(&path, cfg.to_string()).expect("write");
    let msg = load_err(dir.path()).to_string();
    assert!(msg.contains("gpt2"), "{msg}");
}

/// Rewrites the tiny model's weights through `edit`.
fn edit_weights(dir: &std::path::Path, edit: impl FnOnce(&mut HashMap<String, Tensor>)) {
    let path = dir.join("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).expect("load st");
    edit(&mut tensors);
    candle_core::safetensors::save(&tensors, &path).expect("save st");
}

#[test]
fn tokenizer_larger_than_embedding_table_is_a_mismatch() {
    let dir = build(&TinySpec::new(TinyArch::XlmRoberta));
    edit_weights(dir.path(), |t| {
        let name = "embeddings.word_embeddings.weight";
        let small = t[name].narrow(0, 0, 20).expect("narrow");
        t.insert(name.to_string(), small);
    });
    let err = load_err(dir.path());
    match &err {
        ModelError::VocabMismatch {
            tokenizer_vocab,
            embedding_rows,
        } => {
            assert_eq!(*embedding_rows, 20);
            assert!(*tokenizer_vocab > 20);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("vocabulary mismatch"));
}

#[test]
fn integer_weights_are_rejected_with_tensor_and_dtype() {
    for (dtype, name) in [
        (DType::I64, "embeddings.word_embeddings.weight"),
        (DType::U8, "encoder.layer.1.output.dense.weight"),
    ] {
        let dir = build(&TinySpec::new(TinyArch::Bert));
        edit_weights(dir.path(), |t| {
            let bad = t[name].to_dtype(dtype).expect("cast");
            t.insert(name.to_string(), bad);
        });
        let err = load_err(dir.path());
        match &err {
            ModelError::UnsupportedDtype {
                tensor, dtype: d, ..
            } => {
                assert_eq!(tensor, name);
                assert_eq!(d, &format!("{dtype:?}").to_uppercase());
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains(name) && msg.contains("F32, F16 and BF16"),
            "{msg}"
        );
    }
}

#[test]
fn missing_tensor_and_bad_shape_are_named() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let name = "encoder.layer.0.intermediate.dense.bias";
    edit_weights(dir.path(), |t| {
        t.remove(name);
    });
    let msg = load_err(dir.path()).to_string();
    assert!(msg.contains(name), "{msg}");

    let dir = build(&TinySpec::new(TinyArch::Bert));
    edit_weights(dir.path(), |t| {
        let wrong = Tensor::zeros((3, 3), DType::F32, &Device::Cpu).expect("zeros");
        t.insert(name.to_string(), wrong);
    });
    let err = load_err(dir.path());
    assert!(matches!(err, ModelError::TensorShape { .. }), "{err:?}");
}

#[test]
fn corrupt_files_are_invalid_not_panics() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    std::fs::write(dir.path().join("config.json"), "{ not json").expect("write");
    assert!(matches!(
        load_err(dir.path()),
        ModelError::InvalidFile { .. }
    ));

    let dir = build(&TinySpec::new(TinyArch::Bert));
    std::fs::write(
        dir.path().join("model.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{}",
    )
    .expect("write");
    assert!(matches!(
        load_err(dir.path()),
        ModelError::InvalidFile { .. }
    ));

    // Offsets near u64::MAX: the bounds check must not overflow.
    let header = br#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    let dir = build(&TinySpec::new(TinyArch::Bert));
    std::fs::write(dir.path().join("model.safetensors"), bytes).expect("write");
    assert!(matches!(
        load_err(dir.path()),
        ModelError::InvalidFile { .. }
    ));

    let dir = build(&TinySpec::new(TinyArch::Bert));
    std::fs::write(dir.path().join("tokenizer.json"), "[]").expect("write");
    let err = load_err(dir.path());
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn classifier_without_id2label_is_a_config_error() {
    let mut spec = TinySpec::new(TinyArch::XlmRoberta);
    spec.labels = Some(vec!["neg".into(), "pos".into()]);
    let dir = build(&spec);
    let path = dir.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    cfg.as_object_mut().expect("object").remove("id2label");
    std::fs::write(&path, cfg.to_string()).expect("write");
    let msg = load_err(dir.path()).to_string();
    assert!(msg.contains("id2label"), "{msg}");
}

//! Parity with Hugging Face transformers on the real multilingual-e5-small.
//!
//! Needs `PALAUTE_TEST_MODEL_DIR` (see `../shared/models/get-multilingual-e5-small.sh`) and the
//! reference file `../shared/models/multilingual-e5-small.reference.jsonl`; without the
//! variable the test is reported as ignored, with the reason (build.rs).

use std::path::PathBuf;

use palaute::model::{EncoderConfig, InputKind, TextEncoder, TransformerEncoder};

struct Reference {
    text: String,
    prefixed: String,
    input_ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn references(path: &std::path::Path) -> Vec<Reference> {
    let text = std::fs::read_to_string(path).expect("read reference file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("reference json");
            let nums = |k: &'static str| {
                v[k].as_array()
                    .expect(k)
                    .iter()
                    .map(move |x| x.as_f64().expect(k))
            };
            Reference {
                text: v["text"].as_str().expect("text").to_string(),
                prefixed: v["prefixed"].as_str().expect("prefixed").to_string(),
                input_ids: nums("input_ids").map(|x| x as u32).collect(),
                embedding: nums("embedding").map(|x| x as f32).collect(),
            }
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// The real model's directory and its reference embeddings.
fn model_and_references() -> (std::ffi::OsString, Vec<Reference>) {
    let model_dir = std::env::var_os("PALAUTE_TEST_MODEL_DIR")
        .filter(|v| !v.is_empty())
        .expect("PALAUTE_TEST_MODEL_DIR: the real model's directory");
    let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/models/multilingual-e5-small.reference.jsonl");
    assert!(
        reference.is_file(),
        "{} not found: the model came from ../shared, so should its reference",
        reference.display()
    );
    let refs = references(&reference);
    assert!(!refs.is_empty());
    (model_dir, refs)
}

#[test]
#[cfg_attr(
    not(palaute_test_model),
    ignore = "needs the real model: set PALAUTE_TEST_MODEL_DIR (.ci/run does)"
)]
fn multilingual_e5_small_matches_transformers() {
    let (model_dir, refs) = model_and_references();

    let opts = EncoderConfig {
        model_id: Some("intfloat/multilingual-e5-small".into()),
        ..EncoderConfig::default()
    };
    let enc =
        TransformerEncoder::load(std::path::Path::new(&model_dir), &opts).expect("load model");
    let info = enc.info();
    assert_eq!(info.dim, 384);
    assert_eq!(info.max_len, 512);
    assert_eq!(enc.prefix(InputKind::Passage), "passage: ");
    assert!(info
        .files
        .iter()
        .any(|(f, h)| f == "model.safetensors" && h.len() == 64));

    for r in &refs {
        assert_eq!(r.prefixed, format!("passage: {}", r.text));
        let ids = enc.tokenize(&r.text, InputKind::Passage).expect("tokenize");
        assert_eq!(ids, r.input_ids, "token ids of {:?}", r.text);
    }

    // All texts in one call: exercises batching alongside parity.
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let emb = enc.embed(&texts, InputKind::Passage).expect("embed");
    let mut worst = 1.0f64;
    for (i, r) in refs.iter().enumerate() {
        let c = cosine(emb.row(i), &r.embedding);
        eprintln!("cos {c:.7}  {}", r.text);
        worst = worst.min(c);
        assert!(c >= 0.9999, "cosine {c} < 0.9999 for {:?}", r.text);
    }
    eprintln!("parity: {} texts, min cosine {worst:.7}", refs.len());
}

/// The int8 quality guard (issue 17): every reference text's int8 embedding at cosine ≥ 0.99
/// to transformers' f32 one, and the same bits whichever kernel computes it (the portable
/// loop here against AVX2 or AVX-512 VNNI, whichever this CPU has).
#[test]
#[cfg_attr(
    not(palaute_test_model),
    ignore = "needs the real model: set PALAUTE_TEST_MODEL_DIR (.ci/run does)"
)]
fn multilingual_e5_small_int8_stays_close() {
    use palaute::model::{Int8Kernel, Precision, Simd};
    let (model_dir, refs) = model_and_references();
    let opts = EncoderConfig {
        model_id: Some("intfloat/multilingual-e5-small".into()),
        precision: Precision::Int8,
        ..EncoderConfig::default()
    };
    let enc =
        TransformerEncoder::load(std::path::Path::new(&model_dir), &opts).expect("load model");
    assert_eq!(enc.info().precision, Precision::Int8);
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let emb = enc.embed(&texts, InputKind::Passage).expect("embed");
    let cos: Vec<f64> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| cosine(emb.row(i), &r.embedding))
        .collect();
    let min = cos.iter().copied().fold(1.0, f64::min);
    let mean = cos.iter().sum::<f64>() / cos.len() as f64;
    eprintln!(
        "int8 ({}): {} texts, cosine to transformers f32 min {min:.5} mean {mean:.5}",
        Int8Kernel::active().name(),
        cos.len()
    );
    for (c, r) in cos.iter().zip(&refs) {
        assert!(*c >= 0.99, "int8 cosine {c} < 0.99 for {:?}", r.text);
    }

    let fast = Int8Kernel::active();
    Simd::cap(Simd::Baseline);
    assert_eq!(Int8Kernel::active(), Int8Kernel::Portable);
    let portable = enc.embed(&texts, InputKind::Passage).expect("embed");
    Simd::cap(Simd::Avx512);
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(
            emb.row(i),
            portable.row(i),
            "{} and portable kernels differ on {text:?}",
            fast.name()
        );
    }
}

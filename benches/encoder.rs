//! Embedding throughput. Uses the real model when `PALAUTE_TEST_MODEL_DIR` is set (and the
//! shared benchmark corpus when present), a tiny random-weight model otherwise.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palaute::model::tiny::{write_tiny_model, TinyArch, TinySpec};
use palaute::model::{EncoderConfig, InputKind, TextEncoder, TransformerEncoder};

fn corpus() -> Vec<String> {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/corpus-2000.txt");
    match std::fs::read_to_string(&shared) {
        Ok(text) => {
            let mut seen = std::collections::HashSet::new();
            text.lines()
                .filter(|l| !l.trim().is_empty() && seen.insert(l.to_string()))
                .take(256)
                .map(str::to_string)
                .collect()
        }
        Err(_) => (0..256)
            .map(|i| {
                let words = [
                    "service", "was", "slow", "but", "the", "refund", "arrived", "fast",
                ];
                (0..(5 + i % 30))
                    .map(|j| words[(i + j) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let _tmp;
    let (dir, label) = match std::env::var_os("PALAUTE_TEST_MODEL_DIR").filter(|v| !v.is_empty()) {
        Some(d) => (PathBuf::from(d), "real"),
        None => {
            eprintln!("PALAUTE_TEST_MODEL_DIR unset: benchmarking a tiny random-weight model");
            let tmp = tempfile::tempdir().expect("tempdir");
            let mut spec = TinySpec::new(TinyArch::XlmRoberta);
            (spec.hidden, spec.heads, spec.intermediate, spec.layers) = (384, 12, 1536, 2);
            write_tiny_model(tmp.path(), &spec).expect("tiny model");
            let dir = tmp.path().to_path_buf();
            _tmp = tmp;
            (dir, "tiny")
        }
    };
    let enc = TransformerEncoder::load(&dir, &EncoderConfig::default()).expect("load model");
    let texts = corpus();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut group = c.benchmark_group("encoder");
    group.sample_size(10);
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.bench_function(format!("embed_{}_{}_sentences", label, refs.len()), |b| {
        b.iter(|| enc.embed(&refs, InputKind::Passage).expect("embed"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

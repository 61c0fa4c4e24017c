//! Behaviour of `TransformerEncoder` on tiny random-weight models built in a temp dir.

use super::tiny::{write_tiny_model, TinyArch, TinySpec};
use super::*;
use candle_core::DType;
use tempfile::TempDir;

pub(super) fn build(spec: &TinySpec) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path(), spec).expect("write tiny model");
    dir
}

pub(super) fn load(dir: &TempDir, opts: &EncoderConfig) -> TransformerEncoder {
    TransformerEncoder::load(dir.path(), opts).expect("load tiny model")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn assert_unit_rows(e: &Embeddings) {
    for row in e.rows() {
        assert!(row.iter().all(|v| v.is_finite()));
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

const TEXTS: &[&str] = &[
    "The service was slow.",
    "Great quality for the price!",
    "I waited 40 minutes and the order never arrived, very bad support",
    "ok",
    "hyvä palvelu",
    "dålig kundtjänst",
];

#[test]
fn loads_bert_and_xlmr_with_info() {
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta, TinyArch::DistilBert] {
        let dir = build(&TinySpec::new(arch));
        let enc = load(&dir, &EncoderConfig::default());
        let info = enc.info();
        assert_eq!(info.dim, 32);
        assert_eq!(enc.dim(), 32);
        assert_eq!(info.max_len, 64, "{arch:?}");
        assert!(
            info.architecture.ends_with("Model"),
            "{}",
            info.architecture
        );
        let names: Vec<&str> = info.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["config.json", "tokenizer.json", "model.safetensors"]
        );
        assert!(info.files.iter().all(|(_, h)| h.len() == 64));
        let e = enc.embed(TEXTS, InputKind::Passage).expect("embed");
        assert_eq!(e.len(), TEXTS.len());
        assert_eq!(e.dim, 32);
        assert_unit_rows(&e);
        assert!(
            cosine(e.row(0), e.row(1)) < 0.999,
            "distinct texts, distinct vectors"
        );
    }
}

#[test]
fn mean_and_cls_pooling_follow_pooling_config() {
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta] {
        let mut spec = TinySpec::new(arch);
        spec.pooling = Some(Pooling::Cls);
        let cls_dir = build(&spec);
        spec.pooling = Some(Pooling::Mean);
        let mean_dir = build(&spec);
        let cls = load(&cls_dir, &EncoderConfig::default());
        let mean = load(&mean_dir, &EncoderConfig::default());
        assert_eq!(cls.pooling(), Pooling::Cls);
        assert_eq!(mean.pooling(), Pooling::Mean);
        let names: Vec<&str> = cls.info().files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"1_Pooling/config.json"));

        let text = TEXTS[2];
        let ids = cls
            .tokenizer
            .encode(text, true)
            .expect("tok")
            .get_ids()
            .to_vec();
        let (hidden, offsets) = cls.model.forward(&[&ids]).expect("forward");
        assert_eq!(offsets, vec![0, ids.len()]);
        let h = 32;
        let mut want_cls = hidden[..h].to_vec();
        let mut want_mean = vec![0f32; h];
        for row in hidden.chunks_exact(h) {
            want_mean
                .iter_mut()
                .zip(row)
                .for_each(|(m, v)| *m += v / ids.len() as f32);
        }
        for v in [&mut want_cls, &mut want_mean] {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= n);
        }
        let got_cls = cls.embed(&[text], InputKind::Passage).expect("embed");
        let got_mean = mean.embed(&[text], InputKind::Passage).expect("embed");
        assert!(max_abs_diff(got_cls.row(0), &want_cls) < 1e-5);
        assert!(max_abs_diff(got_mean.row(0), &want_mean) < 1e-5);
        assert!(max_abs_diff(got_cls.row(0), got_mean.row(0)) > 1e-3);

        // An explicit option wins over the directory's pooling config.
        let forced = load(
            &cls_dir,
            &EncoderConfig {
                pooling: Some(Pooling::Mean),
                ..EncoderConfig::default()
            },
        );
        let e = forced.embed(&[text], InputKind::Passage).expect("embed");
        assert!(max_abs_diff(e.row(0), &want_mean) < 1e-5);
    }
}

#[test]
fn unnormalised_output_when_disabled() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let enc = load(
        &dir,
        &EncoderConfig {
            normalize: false,
            ..EncoderConfig::default()
        },
    );
    let e = enc.embed(&TEXTS[..2], InputKind::Passage).expect("embed");
    let norm: f32 = e.row(0).iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() > 1e-3);
}

fn long_text() -> String {
    let words = [
        "service", "was", "slow", "and", "the", "refund", "never", "arrived",
    ];
    (0..70)
        .map(|i| words[i % words.len()])
        .collect::<Vec<_>>()
        .join(" ")
        + " but support was great"
}

#[test]
fn long_inputs_are_windowed_not_truncated() {
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta] {
        let dir = build(&TinySpec::new(arch));
        let opts = EncoderConfig {
            max_len: Some(16),
            ..EncoderConfig::default()
        };
        let enc = load(&dir, &opts);
        assert_eq!(enc.info().max_len, 16);
        let long = long_text();
        let texts = [long.as_str(), "ok", long.as_str()];
        let e = enc.embed(&texts, InputKind::Passage).expect("embed");
        let stats = enc.last_stats();
        assert_eq!(stats.windowed, 2, "both copies of the long text count");
        assert_eq!(stats.unique_texts, 2);
        assert_unit_rows(&e);
        assert_eq!(e.row(0), e.row(2));

        // Truncation = what the model sees in the first window only.
        let ids = enc
            .tokenizer
            .encode(long.as_str(), true)
            .expect("tok")
            .get_ids()
            .to_vec();
        assert!(ids.len() > 60);
        let mut truncated = ids[..15].to_vec();
        truncated.push(*ids.last().expect("ids"));
        let (hidden, _) = enc.model.forward(&[&truncated]).expect("forward");
        let mut first = vec![0f32; 32];
        for row in hidden.chunks_exact(32) {
            first.iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        let c = cosine(&first, e.row(0));
        assert!(c < 0.9999, "windowed result equals truncation (cos {c})");
        assert!(c > 0.0);

        // The model's own limit is respected without an explicit max_len.
        let full = load(&dir, &EncoderConfig::default());
        let very_long = (0..200).map(|_| "slow").collect::<Vec<_>>().join(" ");
        let e = full
            .embed(&[very_long.as_str()], InputKind::Passage)
            .expect("embed");
        assert_eq!(full.last_stats().windowed, 1);
        assert_unit_rows(&e);
    }
}

#[test]
fn classification_heads_give_distributions_over_id2label() {
    let labels: Vec<String> = ["negative", "neutral", "positive"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta, TinyArch::DistilBert] {
        let mut spec = TinySpec::new(arch);
        spec.labels = Some(labels.clone());
        let dir = build(&spec);
        let enc = load(&dir, &EncoderConfig::default());
        assert!(enc
            .info()
            .architecture
            .ends_with("ForSequenceClassification"));
        assert_eq!(enc.labels(), labels.as_slice());
        let probs = enc.classify(TEXTS).expect("classify");
        assert_eq!(probs.labels, labels);
        assert_eq!(probs.rows.len(), TEXTS.len());
        for row in &probs.rows {
            assert_eq!(row.len(), 3);
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{arch:?} sum {sum}");
            assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
        }
        assert_ne!(probs.rows[0], probs.rows[1]);
        // A classifier is still an encoder.
        let e = enc.embed(&TEXTS[..2], InputKind::Passage).expect("embed");
        assert_unit_rows(&e);
        // Long inputs are windowed for classification too.
        let long = long_text();
        let small = load(
            &dir,
            &EncoderConfig {
                max_len: Some(16),
                ..EncoderConfig::default()
            },
        );
        let p = small.classify(&[long.as_str()]).expect("classify");
        assert!((p.rows[0].iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(small.last_stats().windowed, 1);
    }
}

#[test]
fn classify_on_bare_encoder_is_an_error() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let enc = load(&dir, &EncoderConfig::default());
    assert!(matches!(
        enc.classify(&["x"]),
        Err(ModelError::NotAClassifier { .. })
    ));
}

#[test]
fn batching_does_not_change_results_and_restores_order() {
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta] {
        let dir = build(&TinySpec::new(arch));
        let opts = EncoderConfig {
            batch_tokens: 48,
            max_batch: 3,
            ..EncoderConfig::default()
        };
        let enc = load(&dir, &opts);
        let long = long_text();
        let mut texts: Vec<&str> = TEXTS.to_vec();
        texts.push(&long[..120]);
        texts.push("the the the the the the the the the the the the the the the");
        let alone: Vec<Vec<f32>> = texts
            .iter()
            .map(|t| {
                enc.embed(&[t], InputKind::Passage)
                    .expect("embed")
                    .row(0)
                    .to_vec()
            })
            .collect();
        // A fixed shuffle of mixed lengths.
        let order = [5, 0, 7, 2, 6, 1, 4, 3];
        let shuffled: Vec<&str> = order.iter().map(|&i| texts[i]).collect();
        let batch = enc.embed(&shuffled, InputKind::Passage).expect("embed");
        let stats = enc.last_stats();
        assert!(
            stats.batches > 1,
            "budget forces several batches: {stats:?}"
        );
        assert_eq!(stats.padded_tokens, 0);
        assert!(stats.real_tokens > 0);
        for (pos, &i) in order.iter().enumerate() {
            let d = max_abs_diff(batch.row(pos), &alone[i]);
            assert!(d < 1e-5, "{arch:?} text {i}: diff {d}");
        }
    }
}

#[test]
fn identical_texts_are_embedded_once() {
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let enc = load(&dir, &EncoderConfig::default());
    let texts = ["ok", "bad", "ok", "ok", "great", "bad"];
    let e = enc.embed(&texts, InputKind::Passage).expect("embed");
    let s = enc.last_stats();
    assert_eq!(s.texts, 6);
    assert_eq!(s.unique_texts, 3);
    assert_eq!(s.windowed, 0);
    assert_eq!(e.row(0), e.row(2));
    assert_eq!(e.row(1), e.row(5));
    assert_ne!(e.row(0), e.row(1));
    let before = enc.total_stats();
    enc.embed(&texts[..2], InputKind::Passage).expect("embed");
    assert_eq!(enc.total_stats().texts, before.texts + 2);
    let empty = enc.embed(&[], InputKind::Passage).expect("embed");
    assert!(empty.is_empty());
}

#[test]
fn e5_prefixes_by_default_and_overridable() {
    let spec = TinySpec::new(TinyArch::XlmRoberta);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("my-e5-small");
    write_tiny_model(&dir, &spec).expect("write");
    let enc = TransformerEncoder::load(&dir, &EncoderConfig::default()).expect("load");
    assert_eq!(enc.prefix(InputKind::Passage), "passage: ");
    assert_eq!(enc.prefix(InputKind::Query), "query: ");
    let p = enc
        .embed(&["slow delivery"], InputKind::Passage)
        .expect("embed");
    let q = enc
        .embed(&["slow delivery"], InputKind::Query)
        .expect("embed");
    assert!(max_abs_diff(p.row(0), q.row(0)) > 1e-4);

    // A random temp dir name could itself contain "e5".
    let plain = root.path().join("plain");
    write_tiny_model(&plain, &spec).expect("write");
    let load_plain = |opts: &EncoderConfig| TransformerEncoder::load(&plain, opts).expect("load");
    let enc = load_plain(&EncoderConfig::default());
    assert_eq!(enc.prefix(InputKind::Passage), "");
    let by_id = load_plain(&EncoderConfig {
        model_id: Some("intfloat/multilingual-e5-small".into()),
        ..EncoderConfig::default()
    });
    assert_eq!(by_id.prefix(InputKind::Query), "query: ");
    assert_eq!(by_id.info().id, "intfloat/multilingual-e5-small");
    let custom = load_plain(&EncoderConfig {
        passage_prefix: Some("doc: ".into()),
        ..EncoderConfig::default()
    });
    assert_eq!(custom.prefix(InputKind::Passage), "doc: ");
}

#[test]
fn half_precision_weights_are_converted() {
    let f32_dir = build(&TinySpec::new(TinyArch::Bert));
    let reference = load(&f32_dir, &EncoderConfig::default())
        .embed(TEXTS, InputKind::Passage)
        .expect("embed");
    for dtype in [DType::F16, DType::BF16] {
        let mut spec = TinySpec::new(TinyArch::Bert);
        spec.dtype = dtype;
        let dir = build(&spec);
        let e = load(&dir, &EncoderConfig::default())
            .embed(TEXTS, InputKind::Passage)
            .expect("embed");
        for i in 0..TEXTS.len() {
            let c = cosine(e.row(i), reference.row(i));
            assert!(c > 0.98, "{dtype:?} row {i}: cos {c}");
        }
    }
}

#[test]
fn models_config_defaults_and_toml() {
    let cfg: ModelsConfig = toml::from_str("batch_tokens = 2048").expect("toml");
    assert_eq!(cfg.encoder, "intfloat/multilingual-e5-small");
    assert_eq!(cfg.batch_tokens, 2048);
    assert_eq!(cfg.max_batch, config::DEFAULT_MAX_BATCH);
    let enc = cfg.encoder_config();
    assert_eq!(
        enc.model_id.as_deref(),
        Some("intfloat/multilingual-e5-small")
    );
    assert!(toml::from_str::<ModelsConfig>("bogus = 1").is_err());
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let cfg = ModelsConfig {
        encoder_dir: Some(dir.path().to_path_buf()),
        ..ModelsConfig::default()
    };
    let enc = cfg.load_encoder(None).expect("load via config");
    assert_eq!(enc.prefix(InputKind::Passage), "passage: ");
    assert!(cfg.load_sentiment().expect("none").is_none());
}

#[test]
fn e5_prefixes_only_for_e5_model_names() {
    use super::config::default_prefixes;
    for name in [
        "intfloat/multilingual-e5-small",
        "intfloat/e5-base-v2",
        "E5-large",
        "models/multilingual-e5-small main",
        "x multilingual_e5_small",
    ] {
        assert_eq!(default_prefixes(name).0, "passage: ", "{name}");
    }
    // Temp dirs (".tmpAbE5xy"), other families and words that merely contain "e5".
    for name in [
        ".tmpAbE5xy",
        "BAAI/bge5-m3",
        "sentence-transformers/all-MiniLM-L6-v2",
        "tre5",
    ] {
        assert_eq!(default_prefixes(name).0, "", "{name}");
    }
}

/// Held by the tests that cap the SIMD level (a process-wide setting), so that each sees the
/// level it set.
static SIMD_LEVEL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_simd_level_gives_the_same_bits() {
    use super::Simd;
    let _level = SIMD_LEVEL.lock().unwrap_or_else(|p| p.into_inner());
    // The AVX2 level multiplies with palaute's own f32 kernel, the others with `gemm`: the
    // same bits here because both compute each output as one multiply-add chain over the
    // tiny model's short rows (`gemm` splits the real model's longer ones into blocks).
    let dir = build(&TinySpec::new(TinyArch::XlmRoberta));
    let enc = load(&dir, &EncoderConfig::default());
    let long = long_text();
    let mut texts: Vec<&str> = TEXTS.to_vec();
    texts.push(&long);
    let detected = Simd::detected();
    let mut seen = Vec::new();
    for level in [Simd::Baseline, Simd::Avx2Fma, Simd::Avx512] {
        if level > detected {
            continue;
        }
        assert_eq!(Simd::cap(level), level);
        let e = enc.embed(&texts, InputKind::Passage).expect("embed");
        let bits: Vec<u32> = (0..texts.len())
            .flat_map(|i| e.row(i).iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect();
        seen.push((level, bits));
    }
    Simd::cap(detected);
    for (level, bits) in &seen[1..] {
        assert!(bits == &seen[0].1, "{level:?} differs from {:?}", seen[0].0);
    }
    assert!(seen.len() >= 2 || detected == Simd::Baseline);
}

#[test]
fn changed_layer_weights_reach_the_packed_avx2_product() {
    use super::Simd;
    let _level = SIMD_LEVEL.lock().unwrap_or_else(|p| p.into_inner());
    let detected = Simd::detected();
    if detected < Simd::Avx2Fma {
        eprintln!("skipped: this CPU has no AVX2 + FMA");
        return;
    }
    let dir = build(&TinySpec::new(TinyArch::Bert));
    let mut enc = load(&dir, &EncoderConfig::default());
    Simd::cap(Simd::Avx2Fma);
    // Packs every layer's weights for the AVX2 kernel.
    let before = enc.embed(TEXTS, InputKind::Passage).expect("embed");
    let last = enc.model.num_layers() - 1;
    let mut p = enc.model.layer_params(last).expect("params");
    for (data, shape) in &mut p.0 {
        if shape.len() == 2 {
            data.iter_mut().for_each(|w| *w = -*w * 0.5);
        }
    }
    enc.model.set_layer_params(last, p).expect("set");
    let avx2 = enc.embed(TEXTS, InputKind::Passage).expect("embed");
    Simd::cap(Simd::Baseline);
    let gemm = enc.embed(TEXTS, InputKind::Passage).expect("embed");
    Simd::cap(detected);
    for i in 0..TEXTS.len() {
        assert!(
            max_abs_diff(before.row(i), gemm.row(i)) > 1e-3,
            "weights changed nothing"
        );
        let d = max_abs_diff(avx2.row(i), gemm.row(i));
        assert!(
            d < 1e-6,
            "text {i}: the AVX2 product used the old weights ({d})"
        );
    }
}

#[test]
fn int8_precision_is_close_batch_independent_and_reversible() {
    for arch in [TinyArch::Bert, TinyArch::XlmRoberta, TinyArch::DistilBert] {
        let dir = build(&TinySpec::new(arch));
        let mut enc = load(&dir, &EncoderConfig::default());
        let reference = enc.embed(TEXTS, InputKind::Passage).unwrap();
        let opts = EncoderConfig {
            precision: Precision::Int8,
            ..EncoderConfig::default()
        };
        let int8 = load(&dir, &opts);
        assert_eq!(int8.info().precision, Precision::Int8);
        let all = int8.embed(TEXTS, InputKind::Passage).unwrap();
        assert_unit_rows(&all);
        for (i, text) in TEXTS.iter().enumerate() {
            let c = cosine(all.row(i), reference.row(i));
            assert!(c > 0.98, "{arch:?} {text:?}: cosine {c}");
            // Activations are quantised per token: a text's embedding does not depend on
            // what else is in its batch (reruns with another chunk size stay identical).
            let alone = int8.embed(&[text], InputKind::Passage).unwrap();
            assert_eq!(alone.row(0), all.row(i), "{arch:?} {text:?}");
        }
        enc.set_precision(Precision::Auto).unwrap();
        // No probe (and f32) only where int8 would run the portable loop; another test may
        // have capped the SIMD level to the baseline meanwhile.
        match enc.info().int8_min_cosine {
            Some(cos) => {
                let chosen = if cos >= encoder::AUTO_MIN_COSINE {
                    Precision::Int8
                } else {
                    Precision::F32
                };
                assert_eq!(enc.info().precision, chosen, "{arch:?} probe {cos}");
            }
            None => assert_eq!(enc.info().precision, Precision::F32, "{arch:?}"),
        }
        enc.set_precision(Precision::F32).unwrap();
        assert_eq!(enc.info().int8_min_cosine, None);
        let back = enc.embed(TEXTS, InputKind::Passage).unwrap();
        for (a, b) in back.rows().zip(reference.rows()) {
            assert_eq!(a, b, "{arch:?}: f32 again after int8");
        }
    }
}

#[test]
fn reused_buffers_leave_no_trace() {
    // The forward pass keeps its buffers from batch to batch and writes them without zeroing:
    // a short text after a long batch must give the bits a fresh encoder gives.
    let long = long_text();
    for precision in [Precision::F32, Precision::Int8] {
        let dir = build(&TinySpec::new(TinyArch::Bert));
        let opts = EncoderConfig {
            precision,
            ..EncoderConfig::default()
        };
        let used = load(&dir, &opts);
        let mut big: Vec<&str> = TEXTS.to_vec();
        big.push(&long);
        used.embed(&big, InputKind::Passage).unwrap();
        let after = used.embed(&["ok"], InputKind::Passage).unwrap();
        let fresh = load(&dir, &opts)
            .embed(&["ok"], InputKind::Passage)
            .unwrap();
        assert_eq!(after.row(0), fresh.row(0), "{precision:?}");
    }
}

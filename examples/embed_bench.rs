//! Encoder throughput on a corpus, comparable with `../shared/bench/anchor.sh`.
//!
//!     cargo run --release --example embed_bench -- MODEL_DIR CORPUS [--reps N]
//!         [--batch-tokens N] [--max-batch N] [--threads N] [--precision f32|int8|auto]
//!
//! Prints two throughputs: the pipeline as used (duplicates embedded once) and every distinct
//! line computed (the like-for-like figure against sentence-transformers, which embeds every
//! line), plus peak RSS, padding waste and a digest of the embeddings (equal digests: the same
//! bits, e.g. across thread counts or `PALAUTE_SIMD` levels).

use std::path::PathBuf;
use std::time::Instant;

use sha2::{Digest, Sha256};

use palaute::model::{
    EncoderConfig, InputKind, Int8Kernel, Precision, TextEncoder, TransformerEncoder,
};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: embed_bench MODEL_DIR CORPUS [--reps N] [--batch-tokens N] [--max-batch N] [--threads N] [--precision f32|int8|auto]";
    let model = PathBuf::from(args.next().ok_or(usage)?);
    let corpus = PathBuf::from(args.next().ok_or(usage)?);
    let mut reps = 3usize;
    let mut opts = EncoderConfig::default();
    while let Some(flag) = args.next() {
        let raw = args.next().ok_or(usage)?;
        if flag == "--precision" {
            opts.precision = match raw.as_str() {
                "f32" => Precision::F32,
                "int8" => Precision::Int8,
                "auto" => Precision::Auto,
                _ => return Err(usage.into()),
            };
            continue;
        }
        let value: usize = raw.parse()?;
        match flag.as_str() {
            "--reps" => reps = value.max(1),
            "--batch-tokens" => opts.batch_tokens = value,
            "--max-batch" => opts.max_batch = value,
            "--threads" => {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(value)
                    .build_global()?;
            }
            _ => return Err(usage.into()),
        }
    }
    let text = std::fs::read_to_string(&corpus)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // Keep corpus order for the distinct lines so batching sees the same mix.
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&str> = lines.iter().copied().filter(|l| seen.insert(*l)).collect();

    let t = Instant::now();
    let enc = TransformerEncoder::load(&model, &opts)?;
    let load_s = t.elapsed().as_secs_f64();
    enc.embed(&lines[..lines.len().min(64)], InputKind::Passage)?;

    let best = |texts: &[&str]| -> Result<(f64, Vec<f32>), Box<dyn std::error::Error>> {
        let mut best = f64::INFINITY;
        let mut emb = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            emb = enc.embed(texts, InputKind::Passage)?.data;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok((best, emb))
    };
    let (all_s, _) = best(&lines)?;
    let all_stats = enc.last_stats();
    let (distinct_s, emb) = best(&distinct)?;
    let stats = enc.last_stats();

    println!(
        "model: {} ({}, dim {}), load {load_s:.2}s, prefix {:?}, batch_tokens {}, max_batch {}, threads {}",
        enc.info().id,
        enc.info().architecture,
        enc.dim(),
        enc.prefix(InputKind::Passage),
        opts.batch_tokens,
        opts.max_batch,
        rayon::current_num_threads()
    );
    let int8 = enc.info().precision == Precision::Int8;
    println!(
        "precision: {}{}, kernels: {}",
        enc.info().precision.name(),
        enc.info()
            .int8_min_cosine
            .map(|c| format!(" (auto: probe min cosine {c:.4})"))
            .unwrap_or_default(),
        if int8 {
            format!("int8 {}", Int8Kernel::active().name())
        } else {
            palaute::model::kernel_report().to_string()
        }
    );
    println!(
        "palaute all lines: {:.1} sent/s ({} lines, {} unique embedded, best of {reps})",
        lines.len() as f64 / all_s,
        all_stats.texts,
        all_stats.unique_texts
    );
    println!(
        "palaute distinct lines: {:.1} sent/s ({} lines, all computed, {} batches, {} tokens, {:.1} tok/s)",
        distinct.len() as f64 / distinct_s,
        distinct.len(),
        stats.batches,
        stats.real_tokens,
        stats.real_tokens as f64 / distinct_s
    );
    println!(
        "padding waste: {:.2}% ({} padded / {} real tokens), windowed: {}",
        100.0 * stats.padding_waste(),
        stats.padded_tokens,
        stats.real_tokens,
        stats.windowed
    );
    let digest = Sha256::digest(bytemuck::cast_slice::<f32, u8>(&emb));
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    println!("embeddings sha256: {hex}");
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS: {mb:.0} MB");
    }
    // Machine-readable line for compare.sh.
    println!(
        "RESULT sent_per_s={:.1}",
        distinct.len() as f64 / distinct_s
    );
    Ok(())
}

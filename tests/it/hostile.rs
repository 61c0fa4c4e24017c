//! Files shaped to break readers (`tests/hostile/`, written by scripts/gen_hostile_fixtures.py):
//! each is read without aborting, within bounded memory, and every data row is accounted for.

use super::*;

#[test]
fn a_stray_cell_at_xfd1048576_is_not_a_dense_grid() {
    let file = repo().join("tests/hostile/sparse_far_cell.xlsx");
    let out = tempfile::tempdir().unwrap();
    // Run as a child: an allocation failure aborts the whole process, not just a thread.
    let o = palaute()
        .args(["run", "--quiet", "--no-classify"])
        .arg(&file)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let docs = read(out.path(), "documents");
    let texts = strings(&docs, "text");
    assert_eq!(docs.height(), 2, "{texts:?}");
    assert!(texts[0]
        .as_deref()
        .unwrap()
        .starts_with("Lasku tuli kahteen kertaan"));
    // The row holding only the stray cell is accounted for, as a reject naming its row.
    let rejects = read(out.path(), "rejects");
    let lines: Vec<Option<u64>> = rejects
        .column("line")
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(lines, [Some(1_048_576)], "{rejects}");
}

#[test]
fn a_docx_is_inflated_as_a_bounded_stream() {
    let file = repo().join("tests/hostile/docx_empty_paragraphs.docx");
    let tmp = tempfile::tempdir().unwrap();
    // Whole (12 MB of XML, 2 M empty paragraphs): the transcript, read as a stream.
    let out = tmp.path().join("whole");
    let o = palaute()
        .args(["run", "--quiet", "--no-classify"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let segs = strings(&read(&out, "segments"), "text");
    assert!(
        segs.iter()
            .flatten()
            .any(|t| t.contains("Asentaja myöhästyi")),
        "{segs:?}"
    );
    // Under a 1 MB limit: refused whole, with the reason, and the run says so.
    let cfg = tmp.path().join("palaute.toml");
    std::fs::write(&cfg, "[ingest]\nmax_inflated_mb = 1\n").unwrap();
    let out = tmp.path().join("limited");
    let o = palaute()
        .arg("--config")
        .arg(&cfg)
        .args(["run", "--quiet", "--no-classify"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success(), "nothing could be processed");
    let reasons = strings(&read(&out, "rejects"), "reason");
    let reason = reasons[0].as_deref().unwrap();
    assert!(
        reason.contains("inflates to") && reason.contains("max_inflated_mb"),
        "{reason}"
    );
}

/// Transcript layouts of other tools (tests/layouts/), each read by its structure: the speakers
/// in order, their roles from the labels, the first answer's text and time.
#[test]
fn transcript_layouts_are_recognised_by_structure() {
    for (file, speakers, answer, t) in [
        (
            "teams_time_name_text.docx",
            ["Liisa Haastattelija", "Pekka Asiakas"],
            "asennus venyi kaksi viikkoa",
            6.0,
        ),
        (
            "bracketed_time_name_colon.txt",
            ["Interviewer", "Kund"],
            "Det tog tre veckor innan fakturan blev rätt. Jag ringde två gånger.",
            8.0,
        ),
        (
            "name_time_in_parentheses.txt",
            ["Haastattelija", "Asiakas"],
            "Toimitus myöhästyi viikon.",
            7.0,
        ),
    ] {
        let path = repo().join("tests/layouts").join(file);
        let r = palaute::ingest::read_file(&path, file, &Config::default());
        let p = &r.parsed;
        assert!(p.rejects.is_empty(), "{file}: {:?}", p.rejects);
        assert_eq!(p.documents.len(), 1, "{file}");
        let turns = &p.documents[0].turns;
        let names: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
        assert_eq!(&names[..2], speakers, "{file}");
        assert_eq!(turns[0].role, palaute::record::Role::Interviewer, "{file}");
        assert_eq!(turns[1].role, palaute::record::Role::Participant, "{file}");
        assert!(
            turns[1].text.contains(answer),
            "{file}: {:?}",
            turns[1].text
        );
        assert_eq!(turns[1].t_start, Some(t), "{file}");
    }
}

/// `corrupt_thrift.parquet`: the Parquet fixture with a few bytes flipped (found by mutation,
/// see tests/it/fuzz.rs), on which polars-parquet 0.55's metadata decoder panics. The run
/// used to die with it (exit 101); now the file is one whole-file reject and the others are read.
#[test]
fn a_parquet_file_that_crashes_its_decoder_is_one_reject() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.csv");
    std::fs::write(
        &good,
        "id,comment\n1,Toimitus oli nopea ja kuljettaja ystävällinen.\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = palaute()
        .args(["run", "--quiet", "--no-classify"])
        .arg(repo().join("tests/hostile/corrupt_thrift.parquet"))
        .arg(&good)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Handled, so the terminal shows no panic message or backtrace for it.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(read(&out, "documents").height(), 1);
    let rejects = read(&out, "rejects");
    let reasons = strings(&rejects, "reason");
    assert_eq!(strings(&rejects, "level"), [Some("file".to_string())]);
    assert!(
        reasons[0].as_deref().unwrap().contains("corrupt")
            && reasons[0].as_deref().unwrap().contains("(thrift"),
        "{reasons:?}"
    );
}

/// Records ended by a bare CR (classic Mac, or a CRLF file that lost an LF): each record keeps
/// its own line number, so every row is accounted for.
#[test]
fn bare_cr_line_endings_keep_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mac.csv");
    std::fs::write(
        &path,
        "id;nps;palaute\r\n1;9;Hyvä palvelu ja nopea toimitus.\r2;3;Lasku oli väärin kahdesti.\r\n3;x;\r\n",
    )
    .unwrap();
    let r = palaute::ingest::read_file(&path, "mac.csv", &Config::default());
    let lines: Vec<Option<u64>> = r.parsed.documents.iter().map(|d| d.source_row).collect();
    assert_eq!(lines, [Some(2), Some(3)]);
    let rejected: Vec<Option<u64>> = r.parsed.rejects.iter().map(|x| x.line).collect();
    assert_eq!(rejected, [Some(4)], "{:?}", r.parsed.rejects);
}

/// Runs `palaute run --no-classify` on `files` as a child process (an allocation failure
/// aborts the whole process, not a thread), with `config` as palaute.toml when given.
fn run_child(files: &[&str], config: Option<&str>, out: &Path) -> std::process::Output {
    let mut cmd = palaute();
    if let Some(toml) = config {
        let cfg = out.with_extension("toml");
        std::fs::write(&cfg, toml).unwrap();
        cmd.arg("--config").arg(cfg);
    }
    cmd.args(["run", "--quiet", "--no-classify"]);
    for f in files {
        cmd.arg(repo().join("tests/hostile").join(f));
    }
    cmd.arg("--out").arg(out).output().unwrap()
}

/// `ods_repeated_rows.ods` describes 49 M filled cells in 1 kB (one row repeated 3 000 times,
/// its cell 16 384 times); calamine expands ODS densely and the run died on allocation
/// (SIGABRT at 4 GB). The grid is measured from the XML first: one whole-file reject naming
/// the extent, and the same survey without that row is read as usual.
#[test]
fn an_ods_describing_millions_of_cells_is_refused_before_expansion() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run_child(&["ods_repeated_rows.ods", "ods_survey.ods"], None, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let docs = read(&out, "documents");
    assert_eq!(
        strings(&docs, "source_file")
            .iter()
            .flatten()
            .map(|s| s.ends_with("ods_survey.ods"))
            .collect::<Vec<_>>(),
        [true, true]
    );
    let rejects = read(&out, "rejects");
    assert_eq!(strings(&rejects, "level"), [Some("file".to_string())]);
    let reason = strings(&rejects, "reason")[0].clone().unwrap();
    assert!(reason.contains("3003 rows × 16384 columns"), "{reason}");
}

/// `xlsx_giant_shared_string.xlsx`: one comment is a 3 MB pasted text (in sharedStrings.xml).
/// By default the comment is kept, cut to `max_cell_chars` at a word boundary, and the cut is
/// a field-level reject; under `max_inflated_mb = 1` the part is refused before calamine
/// loads it, naming it.
#[test]
fn a_giant_cell_is_cut_and_a_zip_part_past_the_limit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("default");
    let o = run_child(&["xlsx_giant_shared_string.xlsx"], None, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let texts = strings(&read(&out, "documents"), "text");
    let giant = texts[0].as_deref().unwrap();
    assert_eq!(texts.len(), 2);
    assert!(giant.starts_with("Lasku oli väärin"));
    // Cut at a word boundary: the last word is whole.
    let last = giant.split_whitespace().last().unwrap();
    assert!(
        "Lasku oli väärin ja asiakaspalvelu ei vastannut."
            .split(' ')
            .any(|w| w == last),
        "{last}"
    );
    assert!(giant.chars().count() <= 100_000 && giant.chars().count() > 99_000);
    let rejects = read(&out, "rejects");
    assert_eq!(strings(&rejects, "level"), [Some("field".to_string())]);
    let reason = strings(&rejects, "reason")[0].clone().unwrap();
    assert!(reason.contains("has 3000000 characters"), "{reason}");

    let out = tmp.path().join("limited");
    let o = run_child(
        &["xlsx_giant_shared_string.xlsx"],
        Some("[ingest]\nmax_inflated_mb = 1\n"),
        &out,
    );
    assert!(!o.status.success(), "nothing could be processed");
    let reason = strings(&read(&out, "rejects"), "reason")[0]
        .clone()
        .unwrap();
    assert!(
        reason.starts_with("xl/sharedStrings.xml inflates to")
            && reason.contains("max_inflated_mb"),
        "{reason}"
    );
}

/// `ods_truncated.ods` (found by scripts/fuzz.sh): the survey with `content.xml` cut before the
/// sheet closes. calamine 0.38 loops forever on it; the run must end, with one reject.
#[test]
fn a_truncated_ods_does_not_hang_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut child = palaute()
        .args(["run", "--quiet", "--no-classify"])
        .arg(repo().join("tests/hostile/ods_truncated.ods"))
        .arg(repo().join("tests/hostile/ods_survey.ods"))
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("the run hangs on a truncated ODS");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success());
    assert_eq!(read(&out, "documents").height(), 2);
    let reason = strings(&read(&out, "rejects"), "reason")[0]
        .clone()
        .unwrap();
    assert!(reason.contains("truncated"), "{reason}");
}

/// `parquet_page_oom.parquet` (found by scripts/fuzz.sh, seed 5): the Parquet fixture with a
/// few bytes changed in a data page, on which polars-parquet 0.55 asks for 2^61 bytes for a
/// validity bitmap and the process aborts — an allocation failure is not a panic, so no
/// `catch_unwind` can turn it into a reject. The binary decodes Parquet inputs in a child
/// process first (`ingest::parquet::isolate_with`): the abort costs that file only.
#[test]
fn a_parquet_page_that_asks_for_exabytes_is_one_reject() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = palaute()
        .args(["run", "--quiet", "--no-classify"])
        .arg(repo().join("tests/hostile/parquet_page_oom.parquet"))
        .arg(repo().join("tests/hostile/ods_survey.ods"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read(&out, "documents").height(), 2);
    let rejects = read(&out, "rejects");
    assert_eq!(strings(&rejects, "level"), [Some("file".to_string())]);
    let reason = strings(&rejects, "reason")[0].clone().unwrap();
    assert!(
        reason.contains("crashed") && reason.contains("memory allocation"),
        "{reason}"
    );
}

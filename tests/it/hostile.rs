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
    assert_eq!(read(&out, "documents").height(), 1);
    let rejects = read(&out, "rejects");
    let reasons = strings(&rejects, "reason");
    assert_eq!(strings(&rejects, "level"), [Some("file".to_string())]);
    assert!(
        reasons[0].as_deref().unwrap().contains("corrupt"),
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

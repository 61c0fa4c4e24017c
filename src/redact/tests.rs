use proptest::prelude::*;

use super::*;

fn redactor() -> Redactor {
    Redactor::new(&PrivacyConfig::default()).unwrap()
}

fn redacted(text: &str) -> String {
    redactor().text(text, &mut Counts::new())
}

#[test]
fn every_kind_is_replaced_by_its_placeholder() {
    for (text, want) in [
        ("mail matti.virtanen@example.fi now", "mail [EMAIL] now"),
        ("soita +358 40 123 4567", "soita [PHONE]"),
        ("soita 040-123 4567.", "soita [PHONE]."),
        ("soita 0401234567", "soita [PHONE]"),
        ("ring +46 70 123 45 67", "ring [PHONE]"),
        ("ring 070-123 45 67!", "ring [PHONE]!"),
        ("call (555) 123-4567", "call [PHONE]"),
        ("hetu 131052-308T", "hetu [HETU]"),
        ("pnr 811228-9874", "pnr [PERSONNUMMER]"),
        (
            "samordningsnummer 460263-1113",
            "samordningsnummer [PERSONNUMMER]",
        ),
        ("IBAN FI21 1234 5600 0007 85.", "IBAN [IBAN]."),
        ("kortti 4111 1111 1111 1111", "kortti [CARD]"),
        ("Minun nimeni on Matti Virtanen.", "Minun nimeni on [NAME]."),
        ("Jag heter Anna Lindqvist och", "Jag heter [NAME] och"),
        ("please ask for John Smith", "please ask for [NAME]"),
    ] {
        assert_eq!(redacted(text), want, "{text}");
    }
}

#[test]
fn every_century_sign_of_a_henkilotunnus() {
    for hetu in [
        "250398+123T",
        "131052-308T",
        "311299X012L",
        "280201W555U",
        "111111V222Y",
        "121212U3338",
        "010594Y9032",
        "071105A987H",
        "150612B456A",
        "050505C444V",
        "060606D111U",
        "070707E888L",
        "010101F2348",
    ] {
        assert_eq!(redacted(&format!("id {hetu}.")), "id [HETU].", "{hetu}");
    }
}

#[test]
fn a_wrong_check_character_or_digit_is_not_an_id() {
    for text in [
        "131052-308A",            // hetu, wrong check character
        "811228-9875",            // personnummer, wrong Luhn digit
        "FI21 1234 5600 0007 86", // IBAN, wrong mod-97
        "4111 1111 1111 1112",    // card, wrong Luhn digit
    ] {
        assert_eq!(redacted(text), text);
    }
}

#[test]
fn prices_order_numbers_dates_and_times_survive() {
    let text = "Tilaus 4500123 maksoi 49,90 € 12.3.2025 klo 9.30, lasku 2025-03-12 kl. 14:00, \
                postinumero 00100, 3 kpl, 15 %, versio 2.4.1, vuosi 2024, summa 1 299 €.";
    assert_eq!(redacted(text), text);
}

#[test]
fn allow_list_custom_patterns_and_off() {
    let cfg = PrivacyConfig {
        allow: vec!["asiakaspalvelu@yritys.fi".into()],
        custom: vec![CustomPattern {
            label: "customer_no".into(),
            pattern: r"AS-\d{6}".into(),
        }],
        ..PrivacyConfig::default()
    };
    let r = Redactor::new(&cfg).unwrap();
    let mut counts = Counts::new();
    assert_eq!(
        r.text(
            "asiakaspalvelu@yritys.fi / matti@koti.fi / AS-123456",
            &mut counts
        ),
        "asiakaspalvelu@yritys.fi / [EMAIL] / [CUSTOMER_NO]"
    );
    assert_eq!(counts.get("EMAIL"), Some(&1));
    assert_eq!(counts.get("CUSTOMER_NO"), Some(&1));
    let off = Redactor::new(&PrivacyConfig {
        redact: false,
        ..PrivacyConfig::default()
    })
    .unwrap();
    assert_eq!(off.text("matti@koti.fi", &mut counts), "matti@koti.fi");
    let bad = PrivacyConfig {
        custom: vec![CustomPattern {
            label: "x".into(),
            pattern: "(".into(),
        }],
        ..PrivacyConfig::default()
    };
    assert!(matches!(
        Redactor::new(&bad),
        Err(PrivacyError::Pattern { .. })
    ));
}

#[test]
fn personal_columns_are_replaced_whole() {
    let mut doc = Document::bare("d", crate::record::DocKind::Response, "s.csv");
    doc.text = "Hyvä palvelu".into();
    doc.metadata = vec![
        ("RecipientEmail".into(), Some("a@b.fi".into())),
        ("IPAddress".into(), Some("192.0.2.1".into())),
        ("RecipientLastName".into(), Some("Virtanen".into())),
        ("Region".into(), Some("Uusimaa".into())),
    ];
    redactor().document(&mut doc, &mut Counts::new());
    let values: Vec<&str> = doc
        .metadata
        .iter()
        .map(|(_, v)| v.as_deref().unwrap())
        .collect();
    assert_eq!(values, ["[EMAIL]", "[IP]", "[NAME]", "Uusimaa"]);
}

#[test]
fn ids_are_pseudonymised_with_a_key_only() {
    let key = b"secret".to_vec();
    let a = pseudonym(&key, "R_123");
    assert_eq!(a, pseudonym(&key, "R_123"));
    assert_ne!(a, pseudonym(b"other", "R_123"));
    assert!(a.starts_with("r_") && a.len() == 18 && !a.contains("123"));
    let missing = PrivacyConfig {
        pseudonymise_ids: true,
        id_key_env: "PALAUTE_TEST_KEY_THAT_IS_NOT_SET".into(),
        ..PrivacyConfig::default()
    };
    assert!(matches!(
        Redactor::new(&missing),
        Err(PrivacyError::MissingKey(_))
    ));
}

#[test]
fn interviews_get_pseudonyms_and_their_names_go_from_the_text() {
    use crate::ingest::transcript::{build_document, Cue};
    let cue = |speaker: &str, text: &str, t: f64| Cue {
        speaker: Some(speaker.into()),
        text: text.into(),
        t_start: Some(t),
        t_end: Some(t + 1.0),
        line: 1,
    };
    let mut doc = build_document(
        "h.vtt",
        vec![
            cue(
                "Liisa Mäkelä (Haastattelija)",
                "Kiitos Matti, kerro toimituksesta?",
                0.0,
            ),
            cue(
                "Matti Virtanen",
                "Soitin Liisalle numerosta 040-123 4567.",
                2.0,
            ),
            cue("Matti Virtanen", "Virtasen perhe odotti viikon.", 4.0),
        ],
        &crate::config::TranscriptConfig::default(),
    )
    .unwrap();
    redactor().document(&mut doc, &mut Counts::new());
    let speakers: Vec<&str> = doc.turns.iter().map(|t| t.speaker.as_str()).collect();
    assert_eq!(speakers, ["Interviewer 1", "Participant 1"]);
    assert_eq!(doc.respondent_id.as_deref(), Some("Participant 1"));
    assert_eq!(
        doc.text,
        "Kiitos [NAME], kerro toimituksesta?\nSoitin [NAME] numerosta [PHONE]. [NAME] perhe odotti viikon."
    );
    // Cue spans and turn offsets follow the redacted text.
    let turn = &doc.turns[1];
    let cue_texts: Vec<String> = turn
        .cues
        .iter()
        .map(|c| {
            turn.text
                .chars()
                .skip(c.char_start)
                .take(c.char_end - c.char_start)
                .collect()
        })
        .collect();
    assert_eq!(
        cue_texts,
        [
            "Soitin [NAME] numerosta [PHONE].",
            "[NAME] perhe odotti viikon."
        ]
    );
    let start: String = doc.text.chars().skip(turn.char_start).take(6).collect();
    assert_eq!(start, "Soitin");
}

proptest! {
    /// Redaction never panics, its spans are sorted, disjoint and on char boundaries, and
    /// every char outside them is unchanged and lands where [`moved`] says.
    #[test]
    fn text_outside_the_spans_is_unchanged(
        words in proptest::collection::vec(
            prop_oneof![
                "[a-zåäö]{1,8}", "[A-ZÅÄÖ][a-zåäö]{1,8}", "[0-9 +()\\-.,]{1,14}", "\\PC{1,6}",
                Just("matti@example.fi".to_string()), Just("040-123 4567".to_string()),
                Just("131052-308T".to_string()), Just("nimeni on Matti".to_string()),
                Just("4111 1111 1111 1111".to_string()),
            ],
            0..20,
        )
    ) {
        let text = words.join(" ");
        let r = redactor();
        let spans = r.spans(&text, Vec::new());
        for w in spans.windows(2) {
            prop_assert!(w[0].end <= w[1].start);
        }
        for s in &spans {
            prop_assert!(s.start < s.end && text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
        let (out, moves) = apply(&text, &spans, &mut Counts::new());
        let out_chars: Vec<char> = out.chars().collect();
        let mut byte = 0;
        for (i, c) in text.chars().enumerate() {
            if !spans.iter().any(|s| byte >= s.start && byte < s.end) {
                prop_assert_eq!(out_chars.get(moved(i, &moves)), Some(&c));
            }
            byte += c.len_utf8();
        }
    }
}

#[test]
fn gazetteer_names_inflected_paired_and_not_sentence_words() {
    for (text, want) in [
        (
            "Matti Virtanen soitti minulle kahdesti.",
            "[NAME] soitti minulle kahdesti.",
        ),
        (
            "Soitin Matille ja Virtasen vaimolle.",
            "Soitin [NAME] ja [NAME] vaimolle.",
        ),
        (
            "Kiitos Jonnalle Tampereen liikkeessä!",
            "Kiitos [NAME] Tampereen liikkeessä!",
        ),
        (
            "Bra hjälp av Jonas i telefon.",
            "Bra hjälp av [NAME] i telefon.",
        ),
        (
            "Thanks to Sarah at the front desk.",
            "Thanks to [NAME] at the front desk.",
        ),
        // A name alone at a sentence's start may be a word; languages and months are not people.
        ("Tuuli oli kova.", "Tuuli oli kova."),
        (
            "The site was only in English until May.",
            "The site was only in English until May.",
        ),
    ] {
        assert_eq!(redacted(text), want, "{text}");
    }
}

//! The evidence tables on a fixture small enough to work out by hand.
//!
//! Six respondents (themes: billing 0, delivery 1, other 2; stages s0, s1):
//! | respondent | NPS | group | segments |
//! |---|---|---|---|
//! | R1 | 2 | detractor | billing@s0 negative |
//! | R2 | 3 | detractor | billing@s0 negative; delivery@s1 negative |
//! | R3 | 9 | promoter | delivery@s1 positive |
//! | R4 | 10 | promoter | other, no stage, neutral |
//! | R5 | 7 | passive | billing@s1 neutral |
//! | R6 | 6 | detractor | billing@s0 negative in each of two documents (two questions) |
//! NPS over all six = 100·(2 − 3)/6 = −16.67.
//! billing: mentioned by R1 R2 R5 R6 (R6 once, however many documents); NPS of the others
//! (R3 R4) = 100, so impact = −16.67 − 100 = −116.67; mentioners' NPS = 100·(0 − 3)/4 = −75;
//! detractor lift = (3/4)/(3/6) = 1.5; share of respondents = 4/6.
//! delivery: R2 R3; others R1 R4 R5 R6: NPS 100·(1 − 2)/4 = −25, impact = −16.67 + 25 = 8.33;
//! mentioners' NPS 0; lift (1/2)/(1/2) = 1.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::classify::codebook::Codebook;

fn fixture() -> (Facts, Vec<ThemeInfo>, Codebook) {
    let mut facts = Facts::default();
    let scores = [2.0, 3.0, 9.0, 10.0, 7.0, 6.0];
    for (r, s) in scores.iter().enumerate() {
        let key = respondent_key("f.csv", Some(&format!("R{}", r + 1)), "-");
        facts.nps.insert(key.clone(), *s);
        facts.respondents.push(key);
    }
    // Documents: one per respondent, and R6's second answer.
    for r in [0, 1, 2, 3, 4, 5, 5] {
        facts.docs.push(DocFact {
            respondent: r,
            date: None,
            compare: None,
        });
    }
    let seg = |doc: u32, theme: u16, stage: Option<u16>, sentiment: Sentiment| Fact {
        doc,
        sentiment,
        sentiment_score: match sentiment {
            Sentiment::Negative => -1.0,
            Sentiment::Neutral => 0.0,
            Sentiment::Positive => 1.0,
        },
        themes: vec![theme],
        stage,
        root_cause: (sentiment == Sentiment::Negative).then_some(theme),
    };
    use Sentiment::*;
    facts.rows = vec![
        seg(0, 0, Some(0), Negative),
        seg(1, 0, Some(0), Negative),
        seg(1, 1, Some(1), Negative),
        seg(2, 1, Some(1), Positive),
        seg(3, 2, None, Neutral),
        seg(4, 0, Some(1), Neutral),
        seg(5, 0, Some(0), Negative),
        seg(6, 0, Some(0), Negative),
    ];
    let theme = |id: &str| ThemeInfo {
        id: id.into(),
        origin: "codebook",
        labels: BTreeMap::new(),
        description: None,
        parent: None,
        keywords: Vec::new(),
        representative: None,
    };
    let themes = vec![theme("billing"), theme("delivery"), theme(OTHER)];
    let stages = Codebook::parse(
        "[codebook]\nid = \"j\"\nkind = \"stage\"\n[[item]]\nid = \"s0\"\nlabel = { en = \"buying\" }\n[[item]]\nid = \"s1\"\nlabel = { en = \"using\" }\n",
        Path::new("journey.toml"),
    )
    .unwrap();
    (facts, themes, stages)
}

fn f64s(df: &DataFrame, col: &str) -> Vec<Option<f64>> {
    df.column(col).unwrap().f64().unwrap().iter().collect()
}

fn u32s(df: &DataFrame, col: &str) -> Vec<Option<u32>> {
    df.column(col).unwrap().u32().unwrap().iter().collect()
}

fn strs(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

#[test]
fn figures_worked_out_by_hand() {
    let (facts, themes, stages) = fixture();
    let cfg = AnalyzeConfig {
        bootstrap_resamples: 50,
        ..AnalyzeConfig::default()
    };
    let t = build(&Inputs {
        facts: &facts,
        themes: &themes,
        stages: &stages,
        quotes: &Quotes::default(),
        cfg: &cfg,
    })
    .unwrap();

    // Drivers: codebook themes with mentions, `other` excluded, in rank order.
    let d = t.drivers.sort(["theme_id"], Default::default()).unwrap();
    assert_eq!(
        strs(&d, "theme_id"),
        [Some("billing".into()), Some("delivery".into())]
    );
    assert_eq!(u32s(&d, "respondents"), [Some(4), Some(2)]);
    assert_eq!(f64s(&d, "share_of_respondents"), [Some(0.67), Some(0.33)]);
    assert_eq!(f64s(&d, "nps_mentioners"), [Some(-75.0), Some(0.0)]);
    assert_eq!(f64s(&d, "nps_impact"), [Some(-116.67), Some(8.33)]);
    assert_eq!(f64s(&d, "detractor_lift"), [Some(1.5), Some(1.0)]);
    assert_eq!(f64s(&d, "negative_share"), [Some(0.8), Some(0.5)]);

    // theme × stage: R6's two documents are two documents but one respondent.
    let ts = &t.theme_stage;
    let cell = |theme: &str, stage: &str| -> usize {
        let (th, st) = (strs(ts, "theme_id"), strs(ts, "stage"));
        (0..ts.height())
            .find(|&i| th[i].as_deref() == Some(theme) && st[i].as_deref() == Some(stage))
            .unwrap_or_else(|| panic!("no cell {theme} × {stage}"))
    };
    let b0 = cell("billing", "s0");
    assert_eq!(u32s(ts, "segments")[b0], Some(4));
    assert_eq!(u32s(ts, "documents")[b0], Some(4));
    assert_eq!(u32s(ts, "respondents")[b0], Some(3));
    assert_eq!(u32s(ts, "root_cause_segments")[b0], Some(4));
    assert_eq!(f64s(ts, "negative_share")[b0], Some(1.0));
    assert_eq!(f64s(ts, "mean_sentiment")[b0], Some(-1.0));
    // Mentioners R1 R2 R6 (all detractors): −100; the others R3 R4 R5: 100·2/3 = 66.67;
    // impact −16.67 − 66.67 = −83.33.
    assert_eq!(f64s(ts, "nps_mentioners")[b0], Some(-100.0));
    assert_eq!(f64s(ts, "nps_others")[b0], Some(66.67));
    assert_eq!(f64s(ts, "nps_impact")[b0], Some(-83.33));
    let b1 = cell("billing", "s1");
    assert_eq!(u32s(ts, "segments")[b1], Some(1));
    assert_eq!(f64s(ts, "negative_share")[b1], Some(0.0));
    // `other` has no stage: no cell.
    assert!(strs(ts, "theme_id")
        .iter()
        .all(|t| t.as_deref() != Some(OTHER)));

    // Themes: every theme, counted once per segment, document and respondent.
    let th = &t.themes;
    assert_eq!(u32s(th, "segments"), [Some(5), Some(2), Some(1)]);
    assert_eq!(u32s(th, "documents"), [Some(5), Some(2), Some(1)]);
    assert_eq!(u32s(th, "respondents"), [Some(4), Some(2), Some(1)]);
    assert_eq!(
        f64s(th, "negative_share"),
        [Some(0.8), Some(0.5), Some(0.0)]
    );
}

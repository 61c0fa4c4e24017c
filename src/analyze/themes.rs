//! The themes table and the per-theme figures the drivers table is built from.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::drivers::DriverCols;
use super::{detractors, list_col, round2, share, Base, Inputs, Row, ThemeCols, OTHER};

/// themes: every theme of the run (mentioned or not); and the drivers' columns of the
/// codebook and emergent themes with mentions (`other` is no driver).
pub(super) fn themes(
    base: &Base,
    by_theme: &BTreeMap<usize, Vec<&Row>>,
    inp: &Inputs,
) -> PolarsResult<(DataFrame, DriverCols)> {
    // Drivers and the themes table share per-theme figures.
    let mut th = ThemeCols::default();
    let mut dr = DriverCols::default();
    for (ti, t) in inp.themes.iter().enumerate() {
        let members = by_theme.get(&ti).map(Vec::as_slice).unwrap_or(&[]);
        let respondents: BTreeSet<&str> = members.iter().map(|r| r.respondent).collect();
        th.id.push(t.id.clone());
        th.origin.push(t.origin.to_string());
        th.label.push(
            t.labels
                .get("en")
                .or_else(|| t.labels.values().next())
                .cloned()
                .unwrap_or_else(|| t.id.clone()),
        );
        for (lang, col) in [
            ("fi", &mut th.label_fi),
            ("sv", &mut th.label_sv),
            ("en", &mut th.label_en),
        ] {
            col.push(t.labels.get(lang).cloned());
        }
        th.description.push(t.description.clone());
        th.parent.push(t.parent.clone());
        th.keywords.push(t.keywords.clone());
        th.segments.push(members.len() as u32);
        th.documents.push(
            members
                .iter()
                .map(|r| r.fact.doc)
                .collect::<BTreeSet<_>>()
                .len() as u32,
        );
        th.respondents.push(respondents.len() as u32);
        th.negative_share
            .push((!members.is_empty()).then(|| round2(share(members, |r| r.negative()))));
        th.root_cause.push(
            base.rows
                .iter()
                .filter(|r| r.fact.root_cause == Some(ti as u16))
                .count() as u32,
        );
        th.representative.push(
            t.representative
                .clone()
                .or_else(|| inp.quotes.representative.get(&ti).cloned()),
        );
        if t.id == OTHER || members.is_empty() {
            continue;
        }
        let (with, _, imp) = base.impact(&respondents);
        let scored: Vec<&f64> = base
            .nps_of
            .iter()
            .filter(|(k, _)| respondents.contains(k.as_str()))
            .map(|(_, v)| v)
            .collect();
        let lift = match (base.detractor_rate, scored.is_empty()) {
            (Some(base), false) if base > 0.0 => Some(round2(
                detractors(scored.iter().copied()) as f64 / scored.len() as f64 / base,
            )),
            _ => None,
        };
        dr.id.push(t.id.clone());
        dr.respondents.push(respondents.len() as u32);
        dr.share.push(round2(
            respondents.len() as f64 / base.respondents.max(1) as f64,
        ));
        dr.negative_share
            .push(round2(share(members, |r| r.negative())));
        dr.nps_mentioners.push(with);
        dr.nps_impact.push(imp);
        dr.lift.push(lift);
        dr.scored.push(base.scored_of(&respondents));
    }
    let themes = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), th.id),
        Column::new("origin".into(), th.origin),
        Column::new("label".into(), th.label),
        Column::new("label_fi".into(), th.label_fi),
        Column::new("label_sv".into(), th.label_sv),
        Column::new("label_en".into(), th.label_en),
        Column::new("description".into(), th.description),
        Column::new("parent".into(), th.parent),
        list_col("keywords", &th.keywords),
        Column::new("segments".into(), th.segments),
        Column::new("documents".into(), th.documents),
        Column::new("respondents".into(), th.respondents),
        Column::new("negative_share".into(), th.negative_share),
        Column::new("root_cause_segments".into(), th.root_cause),
        Column::new("representative_segment_id".into(), th.representative),
    ])?;
    Ok((themes, dr))
}

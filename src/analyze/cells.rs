//! The theme × stage table and its quotes.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::stats;
use super::{list_col, round2, share, Base, Inputs, Quote, QuoteRow, Row, TsCols};

type Cells<'r, 'a> = BTreeMap<(usize, usize), Vec<&'r Row<'a>>>;

/// theme_stage: one row per cell with mentions; the quotes it cites, ranked, for the quotes
/// table.
pub(super) fn theme_stage<'q>(
    base: &Base,
    cells: &Cells,
    inp: &'q Inputs,
) -> PolarsResult<(DataFrame, Vec<QuoteRow<'q>>)> {
    let mut quote_rows: Vec<QuoteRow> = Vec::new();
    let mut ts = TsCols::default();
    let mut cell_groups: Vec<Vec<usize>> = Vec::new();
    for ((ti, si), members) in cells {
        let respondents: BTreeSet<&str> = members.iter().map(|r| r.respondent).collect();
        cell_groups.push(base.scored_of(&respondents));
        let negatives = members.iter().filter(|r| r.negative()).count();
        let (lo, hi) = stats::wilson(negatives, members.len()).unzip();
        ts.negative_low.push(lo.map(round2));
        ts.negative_high.push(hi.map(round2));
        let (with, without, imp) = base.impact(&respondents);
        let picked: &[Quote] = inp.quotes.cells.get(&(*ti, *si)).map_or(&[], Vec::as_slice);
        for (rank, q) in picked.iter().enumerate() {
            quote_rows.push((*ti, *si, rank + 1, q));
        }
        ts.theme.push(base.theme_order[*ti].clone());
        ts.stage.push(base.stage_order[*si].clone());
        ts.segments.push(members.len() as u32);
        ts.root_cause.push(
            members
                .iter()
                .filter(|r| r.fact.root_cause == Some(*ti as u16))
                .count() as u32,
        );
        ts.documents.push(
            members
                .iter()
                .map(|r| r.fact.doc)
                .collect::<BTreeSet<_>>()
                .len() as u32,
        );
        ts.respondents.push(respondents.len() as u32);
        ts.negative_share
            .push(round2(share(members, |r| r.negative())));
        ts.mean_sentiment.push(round2(
            members
                .iter()
                .map(|r| r.fact.sentiment_score as f64)
                .sum::<f64>()
                / members.len() as f64,
        ));
        ts.nps_mentioners.push(with);
        ts.nps_others.push(without);
        ts.nps_impact.push(imp);
        ts.quote_ids
            .push(picked.iter().map(|q| q.segment_id.clone()).collect());
    }
    // Cells share the drivers' resamples (same seed and streams), without importance.
    let cell_ci = stats::bootstrap(&base.y, &cell_groups, None, inp.cfg).impact;
    let (cell_lo, cell_hi): (Vec<Option<f64>>, Vec<Option<f64>>) = cell_ci
        .iter()
        .map(|c| (c.map(|c| round2(c.0)), c.map(|c| round2(c.1))))
        .unzip();
    let theme_stage = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), ts.theme),
        Column::new("stage".into(), ts.stage),
        Column::new("segments".into(), ts.segments),
        Column::new("root_cause_segments".into(), ts.root_cause),
        Column::new("documents".into(), ts.documents),
        Column::new("respondents".into(), ts.respondents),
        Column::new("negative_share".into(), ts.negative_share),
        Column::new("negative_share_low".into(), ts.negative_low),
        Column::new("negative_share_high".into(), ts.negative_high),
        Column::new("mean_sentiment".into(), ts.mean_sentiment),
        Column::new("nps_mentioners".into(), ts.nps_mentioners),
        Column::new("nps_others".into(), ts.nps_others),
        Column::new("nps_impact".into(), ts.nps_impact),
        Column::new("nps_impact_low".into(), cell_lo),
        Column::new("nps_impact_high".into(), cell_hi),
        list_col("quote_ids", &ts.quote_ids),
    ])?;

    Ok((theme_stage, quote_rows))
}

/// quotes: the cells' quotes in cell order, ranked within each.
pub(super) fn quotes(base: &Base, quote_rows: &[QuoteRow]) -> PolarsResult<DataFrame> {
    let q = |f: &dyn Fn(&QuoteRow) -> Option<String>| -> Vec<Option<String>> {
        quote_rows.iter().map(f).collect()
    };
    let quotes = DataFrame::new_infer_height(vec![
        Column::new(
            "theme_id".into(),
            q(&|x| Some(base.theme_order[x.0].clone())),
        ),
        Column::new("stage".into(), q(&|x| Some(base.stage_order[x.1].clone()))),
        Column::new(
            "rank".into(),
            quote_rows.iter().map(|x| x.2 as u32).collect::<Vec<_>>(),
        ),
        Column::new("segment_id".into(), q(&|x| Some(x.3.segment_id.clone()))),
        Column::new("doc_id".into(), q(&|x| Some(x.3.doc_id.clone()))),
        Column::new("text".into(), q(&|x| Some(x.3.text.clone()))),
        Column::new("lang".into(), q(&|x| Some(x.3.lang.clone()))),
        Column::new(
            "sentiment".into(),
            q(&|x| Some(x.3.sentiment.as_str().to_string())),
        ),
        Column::new("speaker".into(), q(&|x| x.3.speaker.clone())),
        Column::new("role".into(), q(&|x| Some(x.3.role.as_str().to_string()))),
        Column::new("source_file".into(), q(&|x| Some(x.3.source_file.clone()))),
        Column::new(
            "source_row".into(),
            quote_rows
                .iter()
                .map(|x| x.3.source_row)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "t_start".into(),
            quote_rows.iter().map(|x| x.3.t_start).collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            quote_rows.iter().map(|x| x.3.score).collect::<Vec<_>>(),
        ),
    ])?;
    Ok(quotes)
}

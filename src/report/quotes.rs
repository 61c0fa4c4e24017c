//! Which quotes the report embeds: per cell and per theme from quotes.parquet, admitted to
//! one pool under the caps of [`super`].

use std::collections::{BTreeSet, HashMap};

use super::data::{Quote, ReportData};
use super::table::Table;
use super::{
    ReportError, MAX_QUOTES_PER_CELL, MAX_QUOTES_PER_THEME, MAX_QUOTES_TOTAL, MAX_QUOTE_CHARS,
};

/// One row of quotes.parquet.
pub struct QuoteRow {
    theme: String,
    stage: String,
    rank: u64,
    quote: Quote,
}

pub fn quote_rows(t: &Table) -> Result<Vec<QuoteRow>, ReportError> {
    let (theme, stage, rank) = (t.strs("theme_id")?, t.strs("stage")?, t.u64s("rank")?);
    let (seg, text, lang) = (t.strs("segment_id")?, t.strs("text")?, t.strs("lang")?);
    let (sent, speaker, role) = (t.strs("sentiment")?, t.strs("speaker")?, t.strs("role")?);
    let (file, row, t_start) = (
        t.strs("source_file")?,
        t.u64s("source_row")?,
        t.f64s("t_start")?,
    );
    let score = t.f64s("score")?;
    let mut out = Vec::with_capacity(t.height());
    for i in 0..t.height() {
        let (Some(th), Some(st), Some(id), Some(tx)) = (&theme[i], &stage[i], &seg[i], &text[i])
        else {
            continue;
        };
        out.push(QuoteRow {
            theme: th.clone(),
            stage: st.clone(),
            rank: rank[i].unwrap_or(u64::MAX),
            quote: Quote {
                segment_id: id.clone(),
                text: super::fmt::truncate(tx, MAX_QUOTE_CHARS),
                lang: lang[i].clone(),
                sentiment: sent[i].clone(),
                speaker: speaker[i].clone(),
                role: role[i].clone(),
                source_file: file[i].clone(),
                source_row: row[i],
                t_start: t_start[i],
                score: score[i],
            },
        });
    }
    Ok(out)
}

/// Choose each cell's and each theme's quotes, then admit them to the pool in priority order
/// (every theme's first quote, then every theme's second, …, then the cells' likewise) until
/// the total cap: with many themes the cap thins out the tail evenly instead of dropping
/// whole themes.
pub fn pick_quotes(data: &mut ReportData, rows: &[QuoteRow], representative: &[Option<String>]) {
    let mut per_cell: HashMap<(&str, &str), Vec<&QuoteRow>> = HashMap::new();
    for r in rows {
        per_cell
            .entry((r.theme.as_str(), r.stage.as_str()))
            .or_default()
            .push(r);
    }
    for list in per_cell.values_mut() {
        list.sort_by(|a, b| (a.rank, &a.quote.segment_id).cmp(&(b.rank, &b.quote.segment_id)));
        list.truncate(MAX_QUOTES_PER_CELL);
    }
    let cell_picks: Vec<Vec<&Quote>> = data
        .cells
        .iter()
        .map(|c| {
            let key = (
                data.themes[c.theme].id.as_str(),
                data.stages[c.stage].id.as_str(),
            );
            per_cell
                .get(&key)
                .map(|l| l.iter().map(|r| &r.quote).collect())
                .unwrap_or_default()
        })
        .collect();
    // A theme's quotes: its representative segment first, then the best-ranked quote of its
    // busiest cells, so the quotes span the stages where the theme matters most.
    let theme_picks: Vec<Vec<&Quote>> = data
        .themes
        .iter()
        .enumerate()
        .map(|(ti, _)| {
            let mut cands: Vec<(u64, std::cmp::Reverse<u64>, usize, &Quote)> = Vec::new();
            for (ci, c) in data.cells.iter().enumerate().filter(|(_, c)| c.theme == ti) {
                for (rank, q) in cell_picks[ci].iter().enumerate() {
                    cands.push((rank as u64, std::cmp::Reverse(c.segments), c.stage, q));
                }
            }
            cands.sort_by_key(|c| (c.0, c.1, c.2));
            let rep = representative.get(ti).cloned().flatten();
            if let Some(pos) = cands
                .iter()
                .position(|c| Some(&c.3.segment_id) == rep.as_ref())
            {
                let c = cands.remove(pos);
                cands.insert(0, c);
            }
            let mut seen_text = BTreeSet::new();
            let mut picked: Vec<&Quote> = Vec::new();
            for (_, _, _, q) in cands {
                let norm = q.text.trim().to_lowercase();
                if picked.iter().all(|p| p.segment_id != q.segment_id) && seen_text.insert(norm) {
                    picked.push(q);
                }
                if picked.len() == MAX_QUOTES_PER_THEME {
                    break;
                }
            }
            picked
        })
        .collect();

    let mut pool: Vec<Quote> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut dropped = BTreeSet::new();
    let mut admit = |q: &Quote, pool: &mut Vec<Quote>| -> Option<usize> {
        if let Some(i) = index.get(&q.segment_id) {
            return Some(*i);
        }
        if pool.len() >= MAX_QUOTES_TOTAL {
            dropped.insert(q.segment_id.clone());
            return None;
        }
        pool.push(q.clone());
        index.insert(q.segment_id.clone(), pool.len() - 1);
        Some(pool.len() - 1)
    };
    let mut theme_idx: Vec<Vec<usize>> = vec![Vec::new(); theme_picks.len()];
    for round in 0..MAX_QUOTES_PER_THEME {
        for (ti, picks) in theme_picks.iter().enumerate() {
            if let Some(i) = picks.get(round).and_then(|q| admit(q, &mut pool)) {
                theme_idx[ti].push(i);
            }
        }
    }
    let mut cell_idx: Vec<Vec<usize>> = vec![Vec::new(); cell_picks.len()];
    for round in 0..MAX_QUOTES_PER_CELL {
        for (ci, picks) in cell_picks.iter().enumerate() {
            if let Some(i) = picks.get(round).and_then(|q| admit(q, &mut pool)) {
                cell_idx[ci].push(i);
            }
        }
    }
    for (t, idx) in data.themes.iter_mut().zip(theme_idx) {
        t.quotes = idx;
    }
    for (c, idx) in data.cells.iter_mut().zip(cell_idx) {
        c.quotes = idx;
    }
    data.quotes_dropped = dropped.len();
    data.quotes = pool;
}

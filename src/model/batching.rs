//! Pure planning logic: splitting long inputs into windows and grouping sequences into batches.

/// One sequence the model will see: a whole input, or one window of a long input.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Index of the (deduplicated) text this window belongs to.
    pub owner: usize,
    pub ids: Vec<u32>,
    /// Weight of this window when its text's windows are averaged: the number of content
    /// tokens it covers.
    pub weight: f32,
}

/// Layout of one tokenised input: `ids` = leading specials, prefix, body, trailing specials.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub lead: usize,
    pub prefix: usize,
    pub trail: usize,
}

/// Splits `ids` into windows of at most `max_len` tokens when it is longer than that.
///
/// Every window repeats the special tokens and the input prefix (so E5 sees `passage: ` in
/// each), and consecutive windows overlap by half a window (step = body window / 2, at least
/// one token), so each token appears with context from both sides in at least one window.
/// Returns `None` when `max_len` leaves no room for content.
pub fn split_windows(
    ids: &[u32],
    parts: Parts,
    max_len: usize,
    owner: usize,
) -> Option<Vec<Window>> {
    if ids.len() <= max_len {
        let content = ids.len().saturating_sub(parts.lead + parts.trail).max(1);
        return Some(vec![Window {
            owner,
            ids: ids.to_vec(),
            weight: content as f32,
        }]);
    }
    let fixed = parts.lead + parts.prefix + parts.trail;
    let width = max_len.checked_sub(fixed).filter(|w| *w > 0)?;
    let lead = &ids[..parts.lead];
    let prefix = &ids[parts.lead..parts.lead + parts.prefix];
    let body = &ids[parts.lead + parts.prefix..ids.len() - parts.trail];
    let trail = &ids[ids.len() - parts.trail..];
    let step = (width / 2).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + width).min(body.len());
        let mut w = Vec::with_capacity(fixed + end - start);
        w.extend_from_slice(lead);
        w.extend_from_slice(prefix);
        w.extend_from_slice(&body[start..end]);
        w.extend_from_slice(trail);
        out.push(Window {
            owner,
            ids: w,
            weight: (end - start) as f32,
        });
        if end == body.len() {
            break;
        }
        start += step;
    }
    Some(out)
}

/// Groups sequences into batches: longest first, so each batch holds sequences of similar
/// length; a batch closes when one more sequence would exceed `batch_tokens` (counted as
/// `sequences x longest`, i.e. what a padded batch would hold) or `max_batch` sequences.
/// Returns sequence indices per batch; every index appears exactly once.
pub fn plan_batches(lens: &[usize], batch_tokens: usize, max_batch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    // Ties keep input order so the plan (and thus float summation order) is deterministic.
    order.sort_by(|&a, &b| lens[b].cmp(&lens[a]).then(a.cmp(&b)));
    let max_batch = max_batch.max(1);
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for i in order {
        if !current.is_empty()
            && (current.len() >= max_batch || (current.len() + 1) * longest > batch_tokens)
        {
            batches.push(std::mem::take(&mut current));
        }
        if current.is_empty() {
            longest = lens[i];
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_one_window() {
        let w = split_windows(
            &[0, 5, 6, 2],
            Parts {
                lead: 1,
                prefix: 0,
                trail: 1,
            },
            8,
            3,
        )
        .unwrap_or_default();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].ids, vec![0, 5, 6, 2]);
        assert_eq!(w[0].owner, 3);
    }

    #[test]
    fn long_input_windows_overlap_and_cover_everything() {
        // <s> p p body(20) </s>, max_len 10 -> width 10 - 4 = 6, step 3.
        let mut ids = vec![0, 90, 91];
        ids.extend(100..120);
        ids.push(2);
        let parts = Parts {
            lead: 1,
            prefix: 2,
            trail: 1,
        };
        let w = split_windows(&ids, parts, 10, 0).unwrap_or_default();
        assert!(w.len() > 1);
        let mut covered = std::collections::HashSet::new();
        for win in &w {
            assert!(win.ids.len() <= 10);
            assert_eq!(&win.ids[..3], &[0, 90, 91]);
            assert_eq!(win.ids.last(), Some(&2));
            covered.extend(win.ids[3..win.ids.len() - 1].iter().copied());
        }
        assert_eq!(covered.len(), 20);
        assert_eq!(w[1].ids[3], 103, "second window starts half a window later");
        let total: f32 = w.iter().map(|x| x.weight).sum();
        assert!(
            total > 20.0,
            "overlapping windows count shared tokens twice"
        );
    }

    #[test]
    fn no_room_for_content_is_reported() {
        let ids: Vec<u32> = (0..10).collect();
        assert!(split_windows(
            &ids,
            Parts {
                lead: 1,
                prefix: 3,
                trail: 1
            },
            5,
            0
        )
        .is_none());
    }

    #[test]
    fn batches_respect_budget_and_cover_all() {
        let lens = [5, 30, 7, 30, 12, 3, 3, 29];
        let b = plan_batches(&lens, 64, 3);
        let mut seen: Vec<usize> = b.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..lens.len()).collect::<Vec<_>>());
        for batch in &b {
            let longest = batch.iter().map(|&i| lens[i]).max().unwrap_or(0);
            assert!(batch.len() <= 3);
            assert!(batch.len() == 1 || batch.len() * longest <= 64);
        }
        assert_eq!(b[0], vec![1, 3], "longest first, ties in input order");
    }
}

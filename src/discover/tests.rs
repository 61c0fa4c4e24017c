use super::*;

/// xorshift64*: a few lines, seeded, identical on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const DIM: usize = 32;

fn normalise(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn random_unit(rng: &mut Rng) -> Vec<f32> {
    normalise((0..DIM).map(|_| rng.signed()).collect())
}

/// `centre` plus small noise: cosine ≈ 0.97 to the centre, ≈ 0.94 between members, while
/// random directions in 32 dimensions are ≈ 0 ± 0.2 apart.
fn near(rng: &mut Rng, centre: &[f32]) -> Vec<f32> {
    normalise(centre.iter().map(|&c| c + 0.08 * rng.signed()).collect())
}

/// Owned item data; `Item` borrows from it.
#[derive(Clone)]
struct Owned {
    id: String,
    text: String,
    lang: String,
    embedding: Vec<f32>,
}

fn items(owned: &[Owned]) -> Vec<Item<'_>> {
    owned
        .iter()
        .map(|o| Item {
            id: &o.id,
            text: &o.text,
            lang: &o.lang,
            embedding: &o.embedding,
        })
        .collect()
}

/// Groups of (language, sentences) around random centres, then `outliers` random points.
fn corpus(seed: u64, groups: &[(&str, Vec<String>)], outliers: usize) -> Vec<Owned> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for (g, (lang, texts)) in groups.iter().enumerate() {
        let centre = random_unit(&mut rng);
        for (k, text) in texts.iter().enumerate() {
            out.push(Owned {
                id: format!("g{g}-{k:02}"),
                text: text.clone(),
                lang: lang.to_string(),
                embedding: near(&mut rng, &centre),
            });
        }
    }
    for k in 0..outliers {
        out.push(Owned {
            id: format!("out-{k:02}"),
            text: format!("outlier number {k}"),
            lang: "und".into(),
            embedding: random_unit(&mut rng),
        });
    }
    out
}

fn plain(n: usize, word: &str) -> Vec<String> {
    (0..n).map(|k| format!("{word} sentence {k}")).collect()
}

fn three_groups() -> Vec<Owned> {
    corpus(
        7,
        &[
            ("en", plain(4, "small")),
            ("en", plain(8, "large")),
            ("en", plain(6, "middle")),
        ],
        4,
    )
}

/// A theme described by item ids instead of indices: (id, label, keywords, member ids,
/// representative id).
type ThemeByIds = (String, String, Vec<String>, Vec<String>, String);

/// Themes described by item ids, to compare runs on reordered input.
fn by_ids(owned: &[Owned], themes: &[EmergentTheme]) -> Vec<ThemeByIds> {
    themes
        .iter()
        .map(|t| {
            let mut members: Vec<String> = t.members.iter().map(|&m| owned[m].id.clone()).collect();
            members.sort();
            (
                t.id.clone(),
                t.label.clone(),
                t.keywords.clone(),
                members,
                owned[t.representative].id.clone(),
            )
        })
        .collect()
}

fn shuffled(owned: &[Owned], seed: u64) -> Vec<Owned> {
    let mut v = owned.to_vec();
    let mut rng = Rng(seed);
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
    v
}

#[test]
fn three_separated_groups_and_outliers() {
    let owned = three_groups();
    let themes = discover(&items(&owned), &DiscoverConfig::default());
    assert_eq!(themes.len(), 3, "{themes:#?}");
    let ids: Vec<&str> = themes.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["emergent_1", "emergent_2", "emergent_3"]);
    let prefixes: Vec<&str> = themes
        .iter()
        .map(|t| &owned[t.members[0]].id[..2])
        .collect();
    assert_eq!(prefixes, ["g1", "g2", "g0"]);
    let sizes: Vec<usize> = themes.iter().map(|t| t.members.len()).collect();
    assert_eq!(sizes, [8, 6, 4]);
    for t in &themes {
        assert!(t.members.windows(2).all(|w| w[0] < w[1]));
        assert!(t.members.contains(&t.representative));
        let group = &owned[t.members[0]].id[..2];
        assert!(t.members.iter().all(|&m| owned[m].id.starts_with(group)));
    }
    let explained: usize = themes.iter().map(|t| t.members.len()).sum();
    assert_eq!(owned.len() - explained, 4, "the outliers stay unexplained");
    assert_eq!(themes[0].keywords[0], "large");
    assert_eq!(themes[0].label.split(" / ").next(), Some("large"));
}

#[test]
fn input_order_does_not_matter() {
    let owned = three_groups();
    let cfg = DiscoverConfig::default();
    let reference = by_ids(&owned, &discover(&items(&owned), &cfg));
    for seed in [1, 2, 3] {
        let other = shuffled(&owned, seed);
        assert_eq!(by_ids(&other, &discover(&items(&other), &cfg)), reference);
    }
}

fn in_pool(threads: usize, f: impl FnOnce() -> Vec<EmergentTheme> + Send) -> Vec<EmergentTheme> {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        Err(e) => panic!("thread pool: {e}"),
    }
}

#[test]
fn thread_count_does_not_matter() {
    // Enough points that rows and assignments really are spread over threads, plus a sample
    // bound below the count so the assignment path runs too.
    let groups: Vec<(&str, Vec<String>)> = (0..12).map(|g| ("en", plain(10 + g, "word"))).collect();
    let owned = corpus(11, &groups, 30);
    let data = items(&owned);
    for cfg in [
        DiscoverConfig::default(),
        DiscoverConfig {
            max_points: 60,
            ..DiscoverConfig::default()
        },
    ] {
        let one = in_pool(1, || discover(&data, &cfg));
        let two = in_pool(2, || discover(&data, &cfg));
        assert_eq!(one, two);
        assert!(one.len() >= 10, "{}", one.len());
    }
}

#[test]
fn sampling_beyond_max_points_is_deterministic_and_pure() {
    let groups: Vec<(&str, Vec<String>)> = (0..5)
        .map(|g| ("en", plain(20, &format!("w{g}"))))
        .collect();
    let owned = corpus(5, &groups, 10);
    let cfg = DiscoverConfig {
        max_points: 30,
        ..DiscoverConfig::default()
    };
    let themes = discover(&items(&owned), &cfg);
    // With six sampled points per group on average every group is seen, and assignment
    // brings each back to full size without mixing groups.
    assert_eq!(themes.len(), 5, "{themes:#?}");
    for t in &themes {
        assert_eq!(t.members.len(), 20);
        let group = &owned[t.members[0]].id[..2];
        assert!(t.members.iter().all(|&m| owned[m].id.starts_with(group)));
    }
    let other = shuffled(&owned, 9);
    assert_eq!(
        by_ids(&other, &discover(&items(&other), &cfg)),
        by_ids(&owned, &themes)
    );
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn keywords_per_language() {
    let router = strings(&[
        "Reititin saapui viikon myöhässä",
        "Reitittimen toimitus kesti kaksi viikkoa",
        "Reititintä ei toimitettu ajoissa ja asennus oli kesken",
        "Uusi reititin ei ole vieläkään tullut",
        "Reititin oli rikki ja mä jouduin odottamaan",
    ]);
    let invoice = strings(&[
        "Lasku oli väärä ja ei kukaan vastannut",
        "Laskussa oli virhe taas",
        "Lasku tuli kahteen kertaan",
        "Mä sain väärän laskun ja se oli liian iso",
    ]);
    let swedish = strings(&[
        "Fakturan var fel och ingen svarade",
        "Jag fick fakturan två gånger",
        "Fakturan kom för sent",
        "Fel belopp på fakturan igen",
    ]);
    let english = strings(&[
        "The delivery was late and nobody called",
        "My delivery never arrived",
        "Delivery took two weeks, it was not ok",
        "I waited for the delivery all day",
    ]);
    let owned = corpus(
        3,
        &[
            ("fi", router),
            ("fi", invoice),
            ("sv", swedish),
            ("en", english),
        ],
        0,
    );
    let themes = discover(&items(&owned), &DiscoverConfig::default());
    assert_eq!(themes.len(), 4, "{themes:#?}");
    let top: Vec<(&str, &str)> = themes
        .iter()
        .map(|t| (&owned[t.members[0]].id[..2], t.keywords[0].as_str()))
        .collect();
    assert_eq!(
        top,
        [
            ("g0", "reititin"),
            ("g1", "lasku"),
            ("g2", "fakturan"),
            ("g3", "delivery")
        ]
    );
    let stop = [
        "ja", "ei", "oli", "mä", "se", "och", "var", "jag", "the", "was", "and", "it",
    ];
    for t in &themes {
        assert!(t.keywords.len() <= 5 && !t.keywords.is_empty());
        assert!(
            t.keywords.iter().all(|k| !stop.contains(&k.as_str())),
            "{:?}",
            t.keywords
        );
        let expected: Vec<&str> = t.keywords.iter().take(3).map(String::as_str).collect();
        assert_eq!(t.label, expected.join(" / "));
    }
}

#[test]
fn empty_and_too_small_inputs() {
    let cfg = DiscoverConfig::default();
    assert!(discover(&[], &cfg).is_empty());
    let owned = corpus(1, &[("fi", plain(2, "lasku"))], 0);
    assert!(discover(&items(&owned), &cfg).is_empty());
}

#[test]
fn identical_embeddings_form_one_cluster() {
    let mut owned = corpus(2, &[("en", plain(7, "same"))], 0);
    let first = owned[0].embedding.clone();
    for o in &mut owned {
        o.embedding = first.clone();
    }
    let themes = discover(&items(&owned), &DiscoverConfig::default());
    assert_eq!(themes.len(), 1);
    assert_eq!(themes[0].members, (0..7).collect::<Vec<_>>());
    assert_eq!(themes[0].representative, 0, "ties go to the smallest id");
}

#[test]
fn unusable_embeddings_are_left_out() {
    let mut owned = corpus(4, &[("en", plain(5, "valid"))], 0);
    owned[1].embedding[0] = f32::NAN;
    owned[2].embedding.pop();
    owned[3].embedding.iter_mut().for_each(|x| *x = 0.0);
    let themes = discover(&items(&owned), &DiscoverConfig::default());
    assert!(
        themes.is_empty(),
        "two usable items are below min_cluster_size"
    );
    let cfg = DiscoverConfig {
        min_cluster_size: 2,
        ..DiscoverConfig::default()
    };
    let themes = discover(&items(&owned), &cfg);
    assert_eq!(themes.len(), 1);
    assert_eq!(themes[0].members, [0, 4]);
}

#[test]
fn stop_words_alone_make_no_theme() {
    // Three non-answers that embed alike but name nothing, and three that name the invoice.
    let texts = strings(&["ja ei oli", "ja ei oli se", "ei ja oli mä"]);
    let owned = corpus(6, &[("fi", texts.clone())], 0);
    assert!(discover(&items(&owned), &DiscoverConfig::default()).is_empty());
    let topical = strings(&[
        "lasku oli väärin",
        "lasku tuli kahdesti",
        "väärä lasku taas",
    ]);
    let owned = corpus(6, &[("fi", texts), ("fi", topical)], 0);
    let themes = discover(&items(&owned), &DiscoverConfig::default());
    assert_eq!(themes.len(), 1, "{themes:?}");
    assert_eq!(themes[0].id, "emergent_1", "ids stay contiguous");
    assert_eq!(themes[0].keywords[0], "lasku");
    assert!(themes[0]
        .members
        .iter()
        .all(|&m| owned[m].text.contains("lasku")));
}

#[test]
fn config_defaults_and_unknown_fields() {
    let cfg: DiscoverConfig = toml::from_str("min_cluster_size = 5").unwrap_or_default();
    assert_eq!(cfg.min_cluster_size, 5);
    assert_eq!(cfg.max_points, DiscoverConfig::default().max_points);
    assert!(toml::from_str::<DiscoverConfig>("min_size = 5").is_err());
}

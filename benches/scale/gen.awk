# Synthetic NPS survey export for benches/scale.sh.
#
#   awk -v rows=N -v seed=S -v pool=pool.tsv -v short=short.tsv -f gen.awk > export.csv
#
# Writes a header `respondent_id,submitted,nps,comment,channel` and N data rows.
# The output depends only on rows, seed, the two pool files and the awk implementation
# (mawk, gawk and busybox awk have different rand() generators): the same inputs give the
# same bytes on every run. Run it under LC_ALL=C; the pools are UTF-8 and are copied as bytes.
#
#   respondent_id  R0000001, R0000002, ... (in file order)
#   submitted      2026-01-01 .. 2026-12-31, rising with the row number like a real export
#   nps            0-10: ~45% 9-10, ~30% 7-8, ~25% 0-6 (detractors lean towards 5-6 and 0)
#   comment        fi ~45%, sv ~25%, en ~30%; ~12% a short answer from `short`, otherwise
#                  1-3 distinct sentences of `pool`, all in the row's language
#   channel        web ~40%, app ~30%, store ~20%, phone ~10%
# The comment is always quoted (inner double quotes doubled); the other fields never need it.

function load(file, kind,    line, tab, lang, text, n) {
    n = 0
    while ((getline line < file) > 0) {
        if (++n == 1) continue                      # header: lang<TAB>text
        sub(/\r$/, "", line)
        tab = index(line, "\t")
        if (tab < 2) continue
        lang = substr(line, 1, tab - 1)
        text = substr(line, tab + 1)
        if (text == "") continue
        gsub(/"/, "\"\"", text)                     # CSV-escape once, at load time
        if (kind == "pool") POOL[lang, ++npool[lang]] = text
        else SHORT[lang, ++nshort[lang]] = text
    }
    if (n == 0) fail("cannot read " file)
    close(file)
}

function fail(msg) {
    print "gen.awk: " msg > "/dev/stderr"
    failed = 1
    exit 2
}

# uniform integer in 1..n
function pick(n) { return int(rand() * n) + 1 }

BEGIN {
    if (rows == "" || rows !~ /^[0-9]+$/) fail("set -v rows=N (a non-negative integer)")
    if (seed == "") seed = 1
    if (pool == "" || short == "") fail("set -v pool=FILE -v short=FILE")
    srand(seed + 0)
    load(pool, "pool")
    load(short, "short")
    split("fi sv en", langs, " ")
    for (k = 1; k <= 3; k++) {
        if (npool[langs[k]] < 3) fail(pool ": need at least 3 sentences for " langs[k])
        if (nshort[langs[k]] < 1) fail(short ": no short answers for " langs[k])
    }

    # day of year -> month/day (2026 is not a leap year)
    split("31 28 31 30 31 30 31 31 30 31 30 31", mdays, " ")
    doy = 0
    for (m = 1; m <= 12; m++)
        for (d = 1; d <= mdays[m]; d++) { doy++; DATE[doy] = sprintf("2026-%02d-%02d", m, d) }

    # detractor scores 0..6, cumulative weights (0 is the angry spike, 5-6 the lukewarm bulk)
    split("0.14 0.19 0.25 0.33 0.43 0.64 1", dcum, " ")

    print "respondent_id,submitted,nps,comment,channel"
    for (i = 1; i <= rows; i++) {
        r = rand()
        lang = r < 0.45 ? "fi" : (r < 0.70 ? "sv" : "en")

        r = rand()
        if (r < 0.45) nps = 9 + int(rand() * 2)
        else if (r < 0.75) nps = 7 + int(rand() * 2)
        else {
            r = rand()
            for (nps = 0; nps < 6 && r >= dcum[nps + 1]; nps++) ;
        }

        if (rand() < 0.12) {
            comment = SHORT[lang, pick(nshort[lang])]
        } else {
            n = npool[lang]
            r = rand()
            a = pick(n)
            comment = POOL[lang, a]
            if (r >= 0.50) {                        # 2 sentences (35%) or 3 (15%)
                b = pick(n)
                if (b == a) b = b % n + 1
                comment = comment " " POOL[lang, b]
                if (r >= 0.85) {
                    c = pick(n)
                    while (c == a || c == b) c = c % n + 1
                    comment = comment " " POOL[lang, c]
                }
            }
        }

        r = rand()
        channel = r < 0.40 ? "web" : (r < 0.70 ? "app" : (r < 0.90 ? "store" : "phone"))

        printf "R%07d,%s,%d,\"%s\",%s\n", i, DATE[int((i - 1) * 365 / rows) + 1], nps, comment, channel
    }
}

END { if (failed) exit 2 }

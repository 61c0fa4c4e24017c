//! Root-cause evidence in the text itself: cause clauses ("koska", "because", "eftersom") and
//! answers to why-questions ("Mikä on tärkein syy antamaasi arvosanaan?") state a reason, so a
//! negative segment carrying one is stronger evidence that its theme caused the dissatisfaction.

/// Words that open a cause clause, per language, matched as whole words (lowercase).
const CAUSE_WORDS: &[&str] = &[
    // fi
    "koska",
    "sillä",
    "kun",
    "vuoksi",
    "takia",
    "johdosta",
    "syynä",
    "siksi",
    // sv
    "eftersom",
    "därför",
    "pga",
    "p g a",
    "på grund av",
    "ty",
    // en
    "because",
    "since",
    "due to",
    "as a result",
    "caused by",
    "so that",
    "thanks to",
];

/// Question words asking for a reason.
const WHY_WORDS: &[&str] = &[
    "miksi",
    "syy",
    "syyt",
    "syystä",
    "syitä",
    "mikä sai",
    "varför",
    "orsak",
    "anledning",
    "skäl",
    "why",
    "reason",
    "what made",
];

fn has_phrase(text: &str, phrases: &[&str]) -> bool {
    let lower = format!(" {} ", text.to_lowercase());
    let normalised: String = lower
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    phrases
        .iter()
        .any(|p| normalised.contains(&format!(" {p} ")))
}

/// The segment states a cause itself.
pub fn has_cause_clause(text: &str) -> bool {
    has_phrase(text, CAUSE_WORDS)
}

/// The question asks why (so its answer is a stated reason).
pub fn is_why_question(question: &str) -> bool {
    has_phrase(question, WHY_WORDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_clauses_and_why_questions() {
        assert!(has_cause_clause(
            "Vaihdoin operaattoria, koska lasku oli väärä."
        ));
        assert!(has_cause_clause(
            "Jag sa upp avtalet eftersom priset höjdes."
        ));
        assert!(has_cause_clause("I left because nobody answered."));
        assert!(!has_cause_clause("Lasku oli väärä."));
        assert!(!has_cause_clause("Kunnossa."), "no match inside words");
        assert!(is_why_question("Mikä on tärkein syy antamaasi arvosanaan?"));
        assert!(is_why_question("Varför gav du det betyget?"));
        assert!(is_why_question("What is the main reason for your score?"));
        assert!(!is_why_question("Mitä voisimme tehdä paremmin?"));
    }
}

//! Progress bars on a terminal (rows/s, ETA); nothing at all when stderr is piped or `--quiet`,
//! so nightly job logs stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Bars only when asked for and stderr is a terminal.
    pub fn new(wanted: bool) -> Self {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    pub fn hidden() -> Self {
        Progress { enabled: false }
    }

    /// One bar for a whole run: input bytes read (for the ETA), with the documents done and
    /// their rate as the message.
    pub fn run_bar(&self, total_bytes: u64) -> ProgressBar {
        self.styled(
            total_bytes,
            "{msg:>20} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
    }

    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let bar = self.styled(
            len,
            "{msg:>10} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}",
        );
        bar.set_message(what.to_string());
        bar
    }

    fn styled(&self, len: u64, template: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        }
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar
    }
}

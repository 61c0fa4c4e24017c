//! Command-line entry: parse arguments, set up logging, call the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use palaute::progress::Progress;
use palaute::{Config, RunOptions};

/// palaute turns customer feedback — survey exports and interview transcripts in Finnish,
/// Swedish, English and more — into Parquet tables you can trace back to every quote.
///
/// Start with `palaute init` to get a commented palaute.toml, then
/// `palaute run exports/ interviews/ --out results/`.
#[derive(Parser)]
#[command(name = "palaute", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Configuration file (see `palaute init`); defaults apply when omitted.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// No progress bars; only errors on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More log output (-v: info, -vv: debug).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Read, segment and tag feedback files; write documents/segments/rejects Parquet and run.json.
    ///
    /// INPUT can be files or folders (read recursively). Formats: CSV/TSV/TXT (any common
    /// delimiter and encoding, Qualtrics and SurveyMonkey header rows), XLSX, JSON Lines,
    /// Parquet, WebVTT, SRT, DOCX and TXT/Markdown transcripts.
    Run(RunArgs),
    /// Write a commented starter palaute.toml with every setting and its default.
    Init {
        /// Where to write it.
        #[arg(default_value = "palaute.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Input files or folders.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output folder for the tables (created if missing).
    #[arg(long, short, default_value = "out", value_name = "DIR")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PALAUTE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("palaute={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: &Cli) -> Result<ExitCode> {
    let config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    match &cli.command {
        Command::Init { path, force } => {
            if path.exists() && !force {
                anyhow::bail!(
                    "{} already exists (use --force to overwrite)",
                    path.display()
                );
            }
            std::fs::write(path, palaute::config::STARTER_TOML)
                .with_context(|| format!("writing {}", path.display()))?;
            if !cli.quiet {
                eprintln!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => {
            let opts = RunOptions {
                inputs: args.inputs.clone(),
                out: args.out.clone(),
                progress: Progress::new(!cli.quiet),
            };
            let summary = palaute::run(&config, &opts)?;
            if !cli.quiet {
                eprintln!(
                    "{} files → {} documents, {} segments, {} rejects → {}",
                    summary.files,
                    summary.documents,
                    summary.segments,
                    summary.rejects,
                    args.out.display()
                );
            }
            // Partial success is success: rejects are reported in rejects.parquet.
            Ok(if summary.documents == 0 {
                eprintln!(
                    "error: nothing could be processed; see {}",
                    args.out.join("rejects.parquet").display()
                );
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

//! Command-line entry: parse arguments, set up logging, call the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use palaute::eval::EvalTask;
use palaute::model::{registry, TextEncoder};
use palaute::progress::Progress;
use palaute::report::{ReportOptions, UiLang};
use palaute::{Config, RunOptions};

/// palaute turns customer feedback — survey exports and interview transcripts in Finnish,
/// Swedish, English and more — into Parquet tables you can trace back to every quote.
///
/// Start with `palaute init` to get a commented palaute.toml, `palaute models fetch` to
/// download the default encoder, then `palaute run exports/ interviews/ --out results/`.
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
    /// Read, segment, tag and classify feedback; write the Parquet tables and run.json.
    ///
    /// INPUT can be files or folders (read recursively). Formats: CSV/TSV/TXT (any common
    /// delimiter and encoding, Qualtrics and SurveyMonkey header rows), XLSX, JSON Lines,
    /// Parquet, WebVTT, SRT, DOCX and TXT/Markdown transcripts.
    Run(RunArgs),
    /// Write report.html for an output folder: heatmap of root causes by journey stage, NPS
    /// drivers, quotes per theme, run facts and rejects — one self-contained file.
    ///
    /// `palaute run` writes it too (in `[report] lang`); use this to re-render, e.g. in
    /// another language.
    Report {
        /// Output folder of `palaute run` (run.json and the Parquet tables).
        #[arg(value_name = "OUT_DIR")]
        out_dir: PathBuf,
        /// Interface language (default: `[report] lang` of the config, else en).
        #[arg(long, value_enum)]
        lang: Option<UiLang>,
        /// Where to write the page (default: OUT_DIR/report.html).
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Rebuild the tables, run.json and report.html of an output folder from its parts.
    ///
    /// Uses the current [discover], [analyze] and [report] settings, so a comparison or a
    /// bootstrap setting can be changed without classifying again. The same command joins
    /// the parts of several shards copied into one folder's parts/.
    Merge {
        /// Output folder of `palaute run`.
        #[arg(value_name = "OUT_DIR")]
        out_dir: PathBuf,
    },
    /// Run SQL over the tables of an output folder.
    ///
    /// Every Parquet table is registered under its name (segments, documents, rejects, themes,
    /// theme_stage, drivers, quotes, trends, embeddings); the dialect is Polars SQL.
    /// Example: palaute query out "SELECT stage, COUNT(*) AS n FROM segments WHERE
    /// sentiment = 'negative' GROUP BY stage ORDER BY n DESC"
    Query {
        /// Output folder of `palaute run`.
        #[arg(value_name = "OUT_DIR")]
        out_dir: PathBuf,
        /// The query.
        sql: String,
        /// table (aligned text), csv, json (one object per line) or parquet (needs --output).
        #[arg(long, value_enum, default_value = "table")]
        format: palaute::query::QueryFormat,
        /// Write the result to this file (atomically) instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Let the query read files and URLs through table functions (read_parquet('…'),
        /// read_csv, …) and run statements other than SELECT. Off by default: a query sees
        /// only the tables of OUT_DIR.
        #[arg(long)]
        allow_files: bool,
    },
    /// Decode a Parquet file and exit: 0 read, 2 unreadable (any other end: the decoder
    /// crashed). `run` calls it in a child process before reading a Parquet input.
    #[command(name = "__check-parquet", hide = true)]
    CheckParquet { path: PathBuf },
    /// Remove respondents from an output folder (right to erasure) and rebuild it.
    ///
    /// Their documents, segments, embeddings, quotes and the rejects of their rows go from
    /// every table and part; run.json and report.html are rebuilt without them, atomically.
    /// IDs are respondent ids as in the input (pseudonymised with the same key first when
    /// [privacy] pseudonymise_ids is on).
    Forget {
        /// Output folder of `palaute run`.
        #[arg(value_name = "OUT_DIR")]
        out_dir: PathBuf,
        /// Respondent ids to remove.
        #[arg(long = "respondent", value_name = "ID")]
        respondents: Vec<String>,
        /// A file of respondent ids, one per line.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Write a commented starter palaute.toml with every setting and its default.
    Init {
        /// Where to write it.
        #[arg(default_value = "palaute.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// List or download the recommended models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Train a classification head from a CSV of labelled texts (id,text,lang,label).
    ///
    /// This is how a researcher recodes: correct labels in a CSV, train, point palaute.toml's
    /// [classify] sentiment_head / theme_head / stage_head at the file, rerun. Themes of the
    /// built-in codebook get the two heads a run uses (whole answers, sentences of longer
    /// ones) in one file for theme_head.
    Train(TrainArgs),
    /// Accuracy and macro-F1 of sentiment, themes or stages against a labelled CSV, or
    /// cross-validated on the training data (--cv).
    Eval(EvalArgs),
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// The recommended models (models/models.toml) and whether they are in the cache.
    List,
    /// Download a model from the Hugging Face hub into the cache and verify its hashes.
    Fetch {
        /// Repo id; default: the configured encoder.
        id: Option<String>,
    },
}

#[derive(Args)]
struct TrainArgs {
    /// Labelled CSV: columns id,text,lang,label (themes: several labels joined with |);
    /// optional in_longer_answer (true/false, as in segments.parquet): for themes of the
    /// built-in codebook (not with --only-file), rows marked true train only the head for
    /// sentences of longer answers.
    labels: PathBuf,
    #[arg(long, value_enum, default_value = "sentiment")]
    task: EvalTask,
    /// Where to write the head (JSON; for themes of the built-in codebook the two theme
    /// heads, whole answers and sentences of longer ones, in one file for theme_head; one
    /// head with --only-file).
    #[arg(long, short)]
    out: PathBuf,
    /// Train on the file alone, without the examples shipped with palaute.
    #[arg(long)]
    only_file: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Labelled CSV: columns id,text,lang and label (or sentiment / themes / stage,
    /// one column per task).
    /// Several files are scored as one set (e.g. one file per language). Files with a
    /// doc_id column hold whole documents, one sentence per row, scored in context.
    /// Sentiment is chosen among the classes the labels use (a set without neutral is
    /// scored as positive vs negative; the report says so).
    #[arg(required_unless_present = "cv")]
    labels: Vec<PathBuf>,
    /// K-fold cross-validation of the task's head on its own training data instead of
    /// a labelled file.
    #[arg(long, value_name = "K", conflicts_with_all = ["labels", "codebook"])]
    cv: Option<usize>,
    #[arg(long, value_enum, default_value = "sentiment")]
    task: EvalTask,
    /// Print the full report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write every row's gold and predicted label to this CSV.
    #[arg(long, value_name = "CSV")]
    predictions: Option<PathBuf>,
    /// Score themes/stages zero-shot against this codebook (TOML; its ids are the gold
    /// labels, its names in several languages are the prototypes) instead of the
    /// configured heads. A path, or the name of a built-in codebook.
    #[arg(long, value_name = "TOML")]
    codebook: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct ModelArgs {
    /// Encoder directory in Hugging Face layout (else [models] in the config, else the cache).
    #[arg(long, env = "PALAUTE_MODEL_DIR", value_name = "DIR")]
    model_dir: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    /// Input files or folders.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output folder for the tables (created if missing).
    #[arg(long, short, default_value = "out", value_name = "DIR")]
    out: PathBuf,
    /// Also write embeddings.parquet (segment_id, embedding) for clustering or search.
    #[arg(long)]
    write_embeddings: bool,
    /// Ingest, segment and detect language only (no model needed).
    #[arg(long)]
    no_classify: bool,
    /// Add INPUTs to the earlier runs' in --out (same config and models, else an error
    /// naming what differs); inputs already there (same name and sha256) are skipped, and
    /// the tables are rebuilt over everything.
    #[arg(long)]
    append: bool,
    /// Process shard K of N of the inputs into OUT/parts/shard=K (no tables; `palaute merge
    /// OUT` builds them once all N are done). `auto` takes K from a Slurm array task
    /// (SLURM_ARRAY_TASK_ID, arrays submitted as --array=1-N) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX + 1), and N from PALAUTE_SHARDS, else [run] shards, else
    /// SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
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
    if let Command::Query {
        format: palaute::query::QueryFormat::Table,
        ..
    } = &cli.command
    {
        palaute::query::widen_table_format();
    }
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn emit(bytes: impl AsRef<[u8]>) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(bytes.as_ref()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The encoder as a run uses it: adapted to the configured examples when `[classify.adapt]`
/// is on, so `train` and `eval` see the embeddings a run labels.
fn load_encoder(
    config: &Config,
    model: &ModelArgs,
    progress: Progress,
) -> Result<palaute::model::TransformerEncoder> {
    let mut encoder = config
        .models
        .load_encoder(model.model_dir.as_deref())
        .context("loading the encoder (run `palaute models fetch` or pass --model-dir)")?;
    palaute::classify::adapt::adapt_encoder(&config.classify, &mut encoder, progress)?;
    Ok(encoder)
}

fn dispatch(cli: &Cli) -> Result<ExitCode> {
    let config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let done = |()| ExitCode::SUCCESS;
    match &cli.command {
        Command::CheckParquet { path } => Ok(match palaute::ingest::parquet::decode_check(path) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(2),
        }),
        Command::Init { path, force } => init(path, *force, cli.quiet).map(done),
        Command::Run(args) => run(config, args, cli.quiet),
        Command::Query {
            out_dir,
            sql,
            format,
            output,
            allow_files,
        } => {
            use palaute::query::{run_query, write_result};
            let mut df = run_query(out_dir, sql, *allow_files)?;
            let mut buf = Vec::new();
            write_result(&mut df, *format, output.as_deref(), &mut buf)?;
            emit(&buf).map(done)
        }
        Command::Forget {
            out_dir,
            respondents,
            file,
        } => forget(&config, out_dir, respondents, file.as_deref(), cli.quiet).map(done),
        Command::Merge { out_dir } => {
            let summary = palaute::pipeline::merge(&config, out_dir, Progress::new(!cli.quiet))?;
            if !cli.quiet {
                eprintln!(
                    "merged {} files: {} documents, {} segments, {} rejects → {}",
                    summary.files,
                    summary.documents,
                    summary.segments,
                    summary.rejects,
                    out_dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { out_dir, lang, out } => {
            let opts = ReportOptions {
                lang: lang.unwrap_or(config.report.lang),
                out: out.clone(),
            };
            let path = palaute::report::write_report(out_dir, &opts)?;
            if !cli.quiet {
                eprintln!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Models(command) => models(&config, command).map(done),
        Command::Train(args) => train(&config, args, cli.quiet).map(done),
        Command::Eval(args) => eval(&config, args, cli.quiet).map(done),
    }
}

fn init(path: &Path, force: bool, quiet: bool) -> Result<()> {
    if path.exists() && !force {
        anyhow::bail!(
            "{} already exists (use --force to overwrite)",
            path.display()
        );
    }
    std::fs::write(path, palaute::config::STARTER_TOML)
        .with_context(|| format!("writing {}", path.display()))?;
    if !quiet {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn run(mut config: Config, args: &RunArgs, quiet: bool) -> Result<ExitCode> {
    // This binary can decode Parquet inputs in a child first (see isolate_with).
    if let Ok(exe) = std::env::current_exe() {
        palaute::ingest::parquet::isolate_with(exe);
    }
    if args.no_classify {
        config.classify.enabled = false;
    }
    let shard = match &args.shard {
        Some(spec) => Some(
            palaute::parts::shard::Shard::parse(
                spec,
                &|k| std::env::var(k).ok(),
                config.run.shards,
            )
            .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let opts = RunOptions {
        inputs: args.inputs.clone(),
        out: args.out.clone(),
        progress: Progress::new(!quiet),
        model_dir: args.model.model_dir.clone(),
        write_embeddings: args.write_embeddings,
        append: args.append,
        shard,
    };
    let summary = palaute::run(&config, &opts)?;
    if !quiet {
        eprintln!(
            "{} files → {} documents, {} segments, {} rejects → {}",
            summary.files,
            summary.documents,
            summary.segments,
            summary.rejects,
            summary
                .outputs
                .first()
                .filter(|_| shard.is_some())
                .unwrap_or(&args.out)
                .display()
        );
    }
    // Partial success is success: rejects are reported in rejects.parquet. A shard may hold
    // no block at all; the merge judges the whole.
    Ok(if summary.documents == 0 && shard.is_none() {
        eprintln!(
            "error: nothing could be processed; see {}",
            args.out.join("rejects.parquet").display()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn forget(
    config: &Config,
    out_dir: &Path,
    respondents: &[String],
    file: Option<&Path>,
    quiet: bool,
) -> Result<()> {
    let mut ids = respondents.to_vec();
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        ids.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    if ids.is_empty() {
        anyhow::bail!("name respondents with --respondent ID or --file FILE");
    }
    let (summary, gone) = palaute::pipeline::forget(config, out_dir, &ids, Progress::new(!quiet))?;
    if !quiet {
        eprintln!(
            "removed {} documents, {} segments, {} rejects; {} documents remain → {}",
            gone.documents,
            gone.segments,
            gone.rejects,
            summary.documents,
            out_dir.display()
        );
    }
    Ok(())
}

fn models(config: &Config, command: &ModelsCommand) -> Result<()> {
    match command {
        ModelsCommand::List => {
            for m in registry::list_models() {
                let cached = config.models.cached(&m.id);
                emit(format!(
                    "{:<62} {:<9} {:<11} {}\n",
                    m.id,
                    m.purpose,
                    m.license,
                    cached.map_or("not downloaded".to_string(), |d| d.display().to_string())
                ))?;
            }
            Ok(())
        }
        ModelsCommand::Fetch { id } => {
            let id = id.clone().unwrap_or_else(|| config.models.encoder.clone());
            let dir = config.models.fetch(&id)?;
            emit(format!("{}\n", dir.display()))
        }
    }
}

fn train(config: &Config, args: &TrainArgs, quiet: bool) -> Result<()> {
    let encoder = load_encoder(config, &args.model, Progress::new(!quiet))?;
    let file = palaute::classify::train_from_file(
        &config.classify,
        &encoder,
        &args.labels,
        args.task,
        !args.only_file,
    )?;
    file.save(&args.out)?;
    if !quiet {
        let heads: Vec<String> = file
            .heads()
            .iter()
            .map(|h| format!("{} head on {} rows", h.task, h.training_rows))
            .collect();
        let setting = match args.task {
            EvalTask::Sentiment => "sentiment_head",
            EvalTask::Themes => "theme_head",
            EvalTask::Stages => "stage_head",
        };
        eprintln!(
            "trained {} for {} → {} (set it as [classify] {setting} in palaute.toml)",
            heads.join(" and "),
            encoder.info().id,
            args.out.display()
        );
    }
    Ok(())
}

fn eval(config: &Config, args: &EvalArgs, quiet: bool) -> Result<()> {
    let encoder = load_encoder(config, &args.model, Progress::new(!quiet))?;
    let report = match args.cv {
        Some(k) => palaute::eval::cross_validate(config, args.task, k, &encoder)?,
        None => palaute::eval::run(
            config,
            &args.labels,
            args.task,
            args.codebook.as_deref(),
            &encoder,
        )?,
    };
    if let Some(path) = &args.predictions {
        report.write_predictions(path)?;
    }
    if args.json {
        emit(format!("{}\n", serde_json::to_string_pretty(&report)?))
    } else {
        emit(report.to_string())
    }
}

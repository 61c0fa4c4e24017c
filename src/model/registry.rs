//! Which models palaute recommends (`models/models.toml`), where they live on disk, and how to
//! download them from the Hugging Face hub.

use std::collections::BTreeMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::ModelsConfig;
use super::error::{ModelError, Result};
use super::weights::sha256_file;

const MANIFEST: &str = include_str!("../../models/models.toml");
/// Written next to fetched files; records where they came from.
pub const PROVENANCE_FILE: &str = "palaute-model.json";
const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// Files every encoder needs; `fetch` fails without them.
const REQUIRED_FILES: &[&str] = &["config.json", "tokenizer.json", "model.safetensors"];
/// Downloaded when the repo has them.
const OPTIONAL_FILES: &[&str] = &[
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// One recommended model from `models/models.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Hugging Face repo id.
    pub id: String,
    /// `encoder` or `sentiment`.
    pub purpose: String,
    pub license: String,
    #[serde(default)]
    pub description: String,
    /// Pinned commit; `None` = not verified offline, `fetch` uses `main` and records the commit.
    #[serde(default)]
    pub revision: Option<String>,
    /// Files to download (required ones are always included).
    #[serde(default)]
    pub files: Vec<String>,
    /// Known sha256 per file; files without an entry are recorded, not verified.
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Manifest {
    models: Vec<ManifestEntry>,
}

/// The recommended models. The manifest is compiled in and covered by a test, so parsing
/// cannot fail at run time; an empty list would be the symptom if it ever did.
pub fn list_models() -> Vec<ManifestEntry> {
    toml::from_str::<Manifest>(MANIFEST)
        .map(|m| m.models)
        .unwrap_or_default()
}

pub fn manifest_entry(id: &str) -> Option<ManifestEntry> {
    list_models().into_iter().find(|m| m.id == id)
}

/// `$PALAUTE_MODELS`, else `$XDG_CACHE_HOME/palaute/models`, else `~/.cache/palaute/models`.
pub fn default_cache_dir() -> Option<PathBuf> {
    crate::config::env_path("PALAUTE_MODELS")
        .or_else(|| crate::config::user_cache_dir().map(|d| d.join("models")))
}

/// Directory of `repo_id` inside a palaute model cache (`org/name` -> `org--name`).
pub fn cache_path(cache_dir: &Path, repo_id: &str) -> PathBuf {
    cache_dir.join(repo_id.replace('/', "--"))
}

fn looks_complete(dir: &Path) -> bool {
    REQUIRED_FILES.iter().all(|f| dir.join(f).is_file())
}

/// Finds the directory of model `id`: `explicit` (CLI `--model-dir`) > `configured` (config
/// file) > `id` itself when it is a local directory > the user cache.
pub fn resolve_model_dir(
    id: &str,
    explicit: Option<&Path>,
    configured: Option<&Path>,
    cache_dir: Option<&Path>,
) -> Result<PathBuf> {
    if let Some(dir) = explicit.or(configured) {
        return Ok(dir.to_path_buf());
    }
    let mut searched = Vec::new();
    let as_path = Path::new(id);
    if as_path.is_dir() {
        return Ok(as_path.to_path_buf());
    }
    let cache = cache_dir.map(Path::to_path_buf).or_else(default_cache_dir);
    if let Some(cache) = cache {
        let dir = cache_path(&cache, id);
        if looks_complete(&dir) {
            return Ok(dir);
        }
        searched.push(dir.display().to_string());
    }
    Err(ModelError::NotFound {
        id: id.to_string(),
        searched: if searched.is_empty() {
            NO_CACHE.to_string()
        } else {
            searched.join(", ")
        },
    })
}

const NO_CACHE: &str = "no cache directory: set PALAUTE_MODELS or HOME";

impl ModelsConfig {
    /// `cache_dir` when configured, else [`default_cache_dir`].
    pub fn cache(&self) -> Option<PathBuf> {
        self.cache_dir.clone().or_else(default_cache_dir)
    }

    /// The cached copy of model `id`, when a complete one is there.
    pub fn cached(&self, id: &str) -> Option<PathBuf> {
        self.cache()
            .map(|c| cache_path(&c, id))
            .filter(|d| looks_complete(d))
    }

    /// [`fetch`] into this configuration's cache, from its hub endpoint.
    pub fn fetch(&self, id: &str) -> Result<PathBuf> {
        let cache = self.cache().ok_or_else(|| ModelError::NotFound {
            id: id.to_string(),
            searched: NO_CACHE.to_string(),
        })?;
        fetch_printing(id, &cache, &self.fetch_options())
    }

    fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            endpoint: self.endpoint.clone(),
            ..FetchOptions::default()
        }
    }

    /// Directory of the configured encoder (see [`resolve_model_dir`] for the order),
    /// downloaded into the cache first when it is missing and `auto_fetch` allows.
    pub fn resolve_encoder_dir(&self, cli_dir: Option<&Path>) -> Result<PathBuf> {
        self.resolve_or_fetch(&self.encoder, cli_dir, self.encoder_dir.as_deref())
    }

    /// Directory of the configured sentiment classifier, if one is configured.
    pub fn resolve_sentiment_dir(&self) -> Result<Option<PathBuf>> {
        self.sentiment_model
            .as_deref()
            .map(|id| self.resolve_or_fetch(id, None, None))
            .transpose()
    }

    /// Whether a missing model may be downloaded: `auto_fetch`, unless the Hugging Face
    /// convention `HF_HUB_OFFLINE=1` says the machine is offline.
    pub fn may_fetch(&self) -> bool {
        let offline = std::env::var("HF_HUB_OFFLINE")
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        self.auto_fetch && !offline
    }

    fn resolve_or_fetch(
        &self,
        id: &str,
        explicit: Option<&Path>,
        configured: Option<&Path>,
    ) -> Result<PathBuf> {
        match resolve_model_dir(id, explicit, configured, self.cache_dir.as_deref()) {
            Err(ModelError::NotFound { id, searched }) if self.may_fetch() => {
                let Some(cache) = self.cache() else {
                    return Err(ModelError::NotFound { id, searched });
                };
                tracing::warn!(
                    "model `{id}` is not in {}; downloading it there (first use only; \
                     models.auto_fetch = false or HF_HUB_OFFLINE=1 stay offline)",
                    cache.display()
                );
                match fetch_with(&id, &cache, &self.fetch_options()) {
                    Ok(report) => {
                        for (file, sha, _) in &report.files {
                            tracing::info!("{id}: {file} sha256 {sha}");
                        }
                        Ok(report.dir)
                    }
                    Err(e) => Err(ModelError::FetchFailed {
                        id,
                        searched,
                        source: Box::new(e),
                    }),
                }
            }
            other => other,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Provenance {
    id: String,
    revision: Option<String>,
    #[serde(default)]
    sha256: BTreeMap<String, String>,
}

/// Model id and revision of a loaded directory: from `palaute-model.json` (written by
/// `fetch`), a Hugging Face cache snapshot path, or a manifest entry whose known hashes the
/// files match; otherwise `hint` (or the directory name) and no revision.
pub(crate) fn identify(
    dir: &Path,
    hint: Option<&str>,
    files: &[(String, String)],
) -> (String, Option<String>) {
    if let Ok(text) = std::fs::read_to_string(dir.join(PROVENANCE_FILE)) {
        if let Ok(p) = serde_json::from_str::<Provenance>(&text) {
            return (p.id, p.revision);
        }
    }
    let name = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
    };
    if name(dir.parent()).as_deref() == Some("snapshots") {
        if let Some(repo) = name(dir.parent().and_then(Path::parent)) {
            if let Some(id) = repo.strip_prefix("models--") {
                return (id.replacen("--", "/", 1), name(Some(dir)));
            }
        }
    }
    for entry in list_models() {
        let known: Vec<_> = files
            .iter()
            .filter_map(|(f, h)| entry.sha256.get(f).map(|want| want == h))
            .collect();
        if !known.is_empty() && known.iter().all(|ok| *ok) {
            return (entry.id, entry.revision);
        }
    }
    let id = hint
        .map(str::to_string)
        .or_else(|| name(Some(dir)))
        .unwrap_or_else(|| dir.display().to_string());
    (id, None)
}

/// Options of [`fetch_with`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Hub base URL; default `$HF_ENDPOINT` or `https://huggingface.co`.
    pub endpoint: Option<String>,
    /// Revision to download; default the manifest's pinned revision, else `main`.
    pub revision: Option<String>,
    /// Bound on resolving and connecting to the hub before anything is downloaded.
    pub connect_timeout: Duration,
    /// Expected sha256 per file, on top of (and overriding) the manifest's.
    pub sha256: BTreeMap<String, String>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            endpoint: None,
            revision: None,
            connect_timeout: Duration::from_secs(5),
            sha256: BTreeMap::new(),
        }
    }
}

/// What `fetch_with` downloaded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchReport {
    pub dir: PathBuf,
    pub revision: Option<String>,
    /// `(file, sha256, verified against the manifest)`.
    pub files: Vec<(String, String, bool)>,
}

/// Downloads `repo_id` into `cache_dir/<org--name>` and returns that directory, printing which
/// files were verified against the manifest's sha256 (the others are recorded only).
pub fn fetch(repo_id: &str, cache_dir: &Path) -> Result<PathBuf> {
    fetch_printing(repo_id, cache_dir, &FetchOptions::default())
}

fn fetch_printing(repo_id: &str, cache_dir: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    let report = fetch_with(repo_id, cache_dir, opts)?;
    for (file, sha, verified) in &report.files {
        let status = if *verified {
            "verified"
        } else {
            "recorded (no pinned hash)"
        };
        eprintln!("{repo_id}: {file} sha256 {sha} {status}");
    }
    Ok(report.dir)
}

pub fn fetch_with(repo_id: &str, cache_dir: &Path, opts: &FetchOptions) -> Result<FetchReport> {
    use hf_hub::api::sync::ApiBuilder;
    use hf_hub::{Repo, RepoType};

    let endpoint = opts
        .endpoint
        .clone()
        .or_else(|| std::env::var("HF_ENDPOINT").ok().filter(|e| !e.is_empty()))
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    // hf-hub 0.4's blocking client offers no connect timeout; probing first turns an
    // unreachable hub into a prompt error instead of a long hang.
    check_reachable(&endpoint, opts.connect_timeout)?;

    let entry = manifest_entry(repo_id);
    let mut pinned = entry.as_ref().map(|e| e.sha256.clone()).unwrap_or_default();
    pinned.extend(opts.sha256.clone());
    let revision = opts
        .revision
        .clone()
        .or_else(|| entry.as_ref().and_then(|e| e.revision.clone()))
        .unwrap_or_else(|| "main".to_string());
    let staging = cache_dir.join(".download");
    let fetch_err = |file: &str, e: &dyn std::fmt::Display| ModelError::Fetch {
        repo: repo_id.to_string(),
        file: file.to_string(),
        message: e.to_string(),
    };
    let api = ApiBuilder::new()
        .with_endpoint(endpoint.clone())
        .with_cache_dir(staging.clone())
        // hf-hub draws one bar per file; only worth it on a terminal.
        .with_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // The staging cache has no stored token; gated or private repos need HF_TOKEN.
        .with_token(std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()))
        .build()
        .map_err(|e| fetch_err("-", &e))?;
    let repo = api.repo(Repo::with_revision(
        repo_id.to_string(),
        RepoType::Model,
        revision.clone(),
    ));
    let info = repo.info().map_err(|e| fetch_err("repo info", &e))?;
    let available: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();

    let mut wanted: Vec<String> = REQUIRED_FILES.iter().map(|s| s.to_string()).collect();
    if let Some(e) = &entry {
        wanted.extend(e.files.iter().cloned());
    }
    wanted.extend(OPTIONAL_FILES.iter().map(|s| s.to_string()));
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|f| seen.insert(f.clone()));
    for f in REQUIRED_FILES {
        if !available.iter().any(|a| a == f) {
            return Err(fetch_err(
                f,
                &"the repository has no such file (palaute needs safetensors weights and a \
                  tokenizer.json)",
            ));
        }
    }
    wanted.retain(|f| available.contains(f));

    let dest = cache_path(cache_dir, repo_id);
    std::fs::create_dir_all(&dest).map_err(|e| ModelError::io(&dest, e))?;
    let mut report = FetchReport {
        dir: dest.clone(),
        revision: Some(info.sha),
        files: Vec::new(),
    };
    for file in &wanted {
        let src = repo.download(file).map_err(|e| fetch_err(file, &e))?;
        let sha = sha256_file(&src)?;
        let expected = pinned.get(file);
        if let Some(expected) = expected {
            if !expected.eq_ignore_ascii_case(&sha) {
                return Err(ModelError::Checksum {
                    repo: repo_id.to_string(),
                    file: file.clone(),
                    expected: expected.clone(),
                    actual: sha,
                });
            }
        }
        let target = dest.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
        }
        // The snapshot entry is a symlink into hf-hub's blob store; moving the blob avoids
        // holding the weights twice on disk.
        let blob = std::fs::canonicalize(&src).unwrap_or(src);
        if std::fs::rename(&blob, &target).is_err() {
            std::fs::copy(&blob, &target).map_err(|e| ModelError::io(&target, e))?;
        }
        report.files.push((file.clone(), sha, expected.is_some()));
    }
    // Best effort: after the moves the staging dir holds only hf-hub's refs and dangling links.
    let _ = std::fs::remove_dir_all(&staging);
    let provenance = Provenance {
        id: repo_id.to_string(),
        revision: report.revision.clone(),
        sha256: report
            .files
            .iter()
            .map(|(f, s, _)| (f.clone(), s.clone()))
            .collect(),
    };
    let path = dest.join(PROVENANCE_FILE);
    let json =
        serde_json::to_string_pretty(&provenance).map_err(|e| ModelError::Config(e.to_string()))?;
    std::fs::write(&path, json).map_err(|e| ModelError::io(&path, e))?;
    Ok(report)
}

/// Resolves and connects to the endpoint's host within `timeout` (DNS included).
fn check_reachable(endpoint: &str, timeout: Duration) -> Result<()> {
    let unreachable = |message: String| ModelError::HubUnreachable {
        endpoint: endpoint.to_string(),
        message,
    };
    let (host, port) = host_port(endpoint)
        .ok_or_else(|| unreachable("cannot parse the endpoint URL".to_string()))?;
    let (tx, rx) = mpsc::channel();
    let target = format!("{host}:{port}");
    // getaddrinfo cannot be cancelled; a detached thread lets us stop waiting for it.
    std::thread::spawn(move || {
        let _ = tx.send(target.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    });
    let addrs = match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) => addrs,
        Ok(Err(e)) => return Err(unreachable(format!("cannot resolve {host}: {e}"))),
        Err(_) => return Err(unreachable(format!("resolving {host} timed out"))),
    };
    let mut last = format!("{host} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(unreachable(last))
}

fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit('@').next()?;
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some((format!("[{host}]"), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((authority.to_string(), default_port)),
    }
    .filter(|(h, _)| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_has_default_encoder() {
        let models = list_models();
        assert!(models
            .iter()
            .any(|m| m.id == super::super::config::DEFAULT_ENCODER && m.purpose == "encoder"));
        assert!(toml::from_str::<Manifest>(MANIFEST).is_ok());
        for m in &models {
            assert!(
                m.purpose == "encoder" || m.purpose == "sentiment",
                "{}",
                m.id
            );
            for sha in m.sha256.values() {
                assert_eq!(sha.len(), 64, "{}", m.id);
            }
        }
    }

    #[test]
    fn endpoint_parsing() {
        assert_eq!(
            host_port("https://huggingface.co"),
            Some(("huggingface.co".into(), 443))
        );
        assert_eq!(
            host_port("http://127.0.0.1:9/x"),
            Some(("127.0.0.1".into(), 9))
        );
        assert_eq!(host_port("http://[::1]:8080"), Some(("[::1]".into(), 8080)));
        assert_eq!(host_port("ftp://x"), None);
    }

    #[test]
    fn fetch_fails_fast_when_hub_unreachable() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let dir = match dir {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let opts = FetchOptions {
            endpoint: Some("http://127.0.0.1:9".to_string()),
            connect_timeout: Duration::from_secs(2),
            ..FetchOptions::default()
        };
        let start = std::time::Instant::now();
        let err = fetch_with("intfloat/multilingual-e5-small", dir.path(), &opts);
        let elapsed = start.elapsed();
        assert!(
            matches!(err, Err(ModelError::HubUnreachable { .. })),
            "{err:?}"
        );
        assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("127.0.0.1:9"), "{msg}");
    }

    #[test]
    fn resolution_order() {
        let tmp = tempfile::tempdir().ok();
        let Some(tmp) = tmp else { panic!("tempdir") };
        let cache = tmp.path().join("cache");
        let explicit = tmp.path().join("explicit");
        let configured = tmp.path().join("configured");
        let id = "org/model";
        let got = resolve_model_dir(id, Some(&explicit), Some(&configured), Some(&cache));
        assert_eq!(got.ok(), Some(explicit.clone()));
        let got = resolve_model_dir(id, None, Some(&configured), Some(&cache));
        assert_eq!(got.ok(), Some(configured));
        let err = resolve_model_dir(id, None, None, Some(&cache));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("palaute models fetch org/model"), "{msg}");
        let cached = cache_path(&cache, id);
        assert!(cached.ends_with("org--model"));
        std::fs::create_dir_all(&cached).ok();
        for f in REQUIRED_FILES {
            std::fs::write(cached.join(f), "{}").ok();
        }
        assert_eq!(
            resolve_model_dir(id, None, None, Some(&cache)).ok(),
            Some(cached)
        );
    }
}

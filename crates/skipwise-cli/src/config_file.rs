//! `--config FILE.toml`: a command's flags as a file, and the file `train` and `compare` write
//! beside their results so that a run can be repeated with one flag.
//!
//! The file's keys are the command's long flags without the dashes (`backbone = "narm"`,
//! `epochs = 30`, `methods = ["vanilla", "fp-adametric"]`); a flag on the command line wins over
//! the file's key of the same name.
//! Every key is checked against the command's own flags first, so a typo is an error naming the
//! file, the line and the flags there are — not a silently ignored setting. The same clap parser
//! then reads the values, so a file cannot say anything the command line could not.

use clap::{ArgMatches, CommandFactory};
use std::ffi::OsString;

/// The flag that names a config file.
const FLAG: &str = "--config";
/// Flags a config file may not set: they say where it is, or what to do with an existing run.
const NOT_IN_FILES: [&str; 3] = ["config", "help", "resume"];

/// `args` (the program's own, the program name first) with the config file's flags, if one is
/// named, put right after the subcommand.
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let Some(at) = args.iter().position(|a| a == FLAG || a.to_string_lossy().starts_with("--config=")) else { return Ok(args) };
    let path = match args[at].to_string_lossy().strip_prefix("--config=") {
        Some(p) => p.to_string(),
        None => args.get(at + 1).map(|p| p.to_string_lossy().into_owned()).ok_or("--config needs a file: --config FILE.toml")?,
    };
    // The subcommand: the first word after the program name that is not a flag.
    let Some(sub_at) = args.iter().skip(1).position(|a| !a.to_string_lossy().starts_with('-')).map(|i| i + 1).filter(|i| *i < at) else {
        return Err("--config goes after the command, e.g. skipwise train --config run.toml".into());
    };
    let sub = args[sub_at].to_string_lossy().into_owned();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // The command line wins: a key it also sets is left out of the file's flags (clap refuses a
    // flag given twice).
    let given: Vec<String> =
        args[sub_at + 1..].iter().filter_map(|a| a.to_str()?.strip_prefix("--").map(|f| f.split('=').next().unwrap_or(f).to_string())).collect();
    let flags = flags_of(&path, &text, &sub, &given)?;
    let mut out: Vec<OsString> = args[..=sub_at].to_vec();
    out.extend(flags.into_iter().map(OsString::from));
    out.extend(args[sub_at + 1..].iter().cloned());
    Ok(out)
}

/// The command line a config file stands for.
fn flags_of(path: &str, text: &str, sub: &str, given: &[String]) -> Result<Vec<String>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| format!("{path}: {}", e.to_string().trim_end()))?;
    let command = crate::cli::Cli::command();
    let command = command.find_subcommand(sub).ok_or_else(|| format!("unknown command {sub:?}"))?;
    let known: Vec<&clap::Arg> = command.get_arguments().filter(|a| a.get_long().is_some_and(|l| !NOT_IN_FILES.contains(&l))).collect();
    let mut flags = Vec::new();
    for (key, value) in &table {
        let line = line_of(text, key);
        let Some(arg) = known.iter().find(|a| a.get_long() == Some(key.as_str())) else {
            let names: Vec<&str> = known.iter().filter_map(|a| a.get_long()).collect();
            return Err(format!("{path}:{line}: `{key}` is not a flag of `skipwise {sub}` (it has: {})", names.join(", ")));
        };
        let scalar = |v: &toml::Value| -> Result<String, String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(i) => Ok(i.to_string()),
                toml::Value::Float(f) => Ok(f.to_string()),
                toml::Value::Boolean(b) => Ok(b.to_string()),
                other => Err(format!("{path}:{line}: `{key}`: a {} is not a flag's value (a string, number, true/false, or a list of them)", other.type_str())),
            }
        };
        if given.contains(key) {
            continue;
        }
        let flag = format!("--{key}");
        match value {
            // A switch (`--resume`-like, no value): present when true.
            toml::Value::Boolean(b) if !arg.get_action().takes_values() => {
                if *b {
                    flags.push(flag);
                }
            }
            toml::Value::Array(items) => {
                let items = items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?;
                flags.push(flag);
                flags.push(items.join(","));
            }
            v => {
                flags.push(flag);
                flags.push(scalar(v)?);
            }
        }
    }
    Ok(flags)
}

/// The 1-based line where `key` is set (1 when it cannot be told, e.g. inside an inline table).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('"').and_then(|r| r.strip_prefix(key)).and_then(|r| r.strip_prefix('"')).or_else(|| l.strip_prefix(key));
            l.is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// Every flag of the command `matches` parsed, defaults included, as a config file: feeding it
/// back with `--config` repeats the run. `out`-like paths are kept; `resume` and `config` are not.
pub fn effective(matches: &ArgMatches, sub: &str) -> String {
    let command = crate::cli::Cli::command();
    let Some(command) = command.find_subcommand(sub) else { return String::new() };
    let mut table = toml::Table::new();
    for arg in command.get_arguments() {
        let (Some(long), id) = (arg.get_long(), arg.get_id().as_str()) else { continue };
        if NOT_IN_FILES.contains(&long) {
            continue;
        }
        if !arg.get_action().takes_values() {
            if let Ok(Some(set)) = matches.try_get_one::<bool>(id) {
                table.insert(long.to_string(), toml::Value::Boolean(*set));
            }
            continue;
        }
        let Ok(Some(raw)) = matches.try_get_raw(id) else { continue };
        let values: Vec<toml::Value> = raw.map(|v| typed(&v.to_string_lossy())).collect();
        let many = arg.get_value_delimiter().is_some() || matches!(arg.get_num_args(), Some(r) if r.max_values() > 1);
        let value = match (many, values.len()) {
            (false, 1) => values.into_iter().next().unwrap_or(toml::Value::String(String::new())),
            _ => toml::Value::Array(values),
        };
        table.insert(long.to_string(), value);
    }
    let header = format!("# skipwise {sub}: every flag of this run (defaults included).\n# Repeat it with: skipwise {sub} --config <this file>\n");
    header + &toml::to_string(&table).unwrap_or_default()
}

/// A raw flag value as the TOML type it reads as.
fn typed(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(f) = raw.parse::<f64>().map_err(|_| ()).and_then(|f| if f.is_finite() { Ok(f) } else { Err(()) }) {
        toml::Value::Float(f)
    } else if let Ok(b) = raw.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(raw.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::FromArgMatches;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn temp(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("skipwise-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = dir.join(name);
        std::fs::write(&p, text).expect("writes");
        p.to_string_lossy().into_owned()
    }

    fn parse(argv: Vec<OsString>) -> (Cli, ArgMatches) {
        let matches = Cli::command().try_get_matches_from(argv).expect("parses");
        (Cli::from_arg_matches(&matches).expect("typed"), matches)
    }

    #[test]
    fn a_config_file_sets_flags_and_the_command_line_wins() {
        let path = temp("run.toml", "# a run\ndata = \"log.csv\"\nbackbone = \"narm\"\nepochs = 7\nlr = 0.01\nmethod = \"fp-simple\"\n");
        let argv = expand(args(&format!("skipwise train --config {path} --epochs 3"))).expect("expands");
        let (Cli { command: Command::Train(t) }, _) = parse(argv) else { panic!("train") };
        assert_eq!((t.data.data.as_str(), t.fit.epochs, t.fit.lr), ("log.csv", 3, 0.01));
        assert_eq!(format!("{:?}", t.fit.backbone), "Narm");
        let compare = temp("compare.toml", "data = \"x.csv\"\nmethods = [\"vanilla\", \"fp-adametric\"]\nseeds = [4, 5]\n");
        let argv = expand(args(&format!("skipwise compare --config={compare}"))).expect("expands");
        let (Cli { command: Command::Compare(c) }, _) = parse(argv) else { panic!("compare") };
        assert_eq!((c.methods.len(), c.seeds), (2, vec![4, 5]));
    }

    #[test]
    fn a_wrong_key_or_value_names_the_file_and_line() {
        let path = temp("typo.toml", "data = \"log.csv\"\n\nepocs = 7\n");
        let err = expand(args(&format!("skipwise train --config {path}"))).expect_err("a typo");
        assert!(err.starts_with(&format!("{path}:3: `epocs` is not a flag of `skipwise train` (it has: data, format")), "{err}");
        let path = temp("table.toml", "data = \"log.csv\"\nfit = { epochs = 3 }\n");
        let err = expand(args(&format!("skipwise train --config {path}"))).expect_err("a table");
        assert!(err.starts_with(&format!("{path}:2: `fit` is not a flag")), "{err}");
        let path = temp("broken.toml", "data = \"log.csv\nepochs = 3\n");
        let err = expand(args(&format!("skipwise train --config {path}"))).expect_err("not TOML");
        assert!(err.starts_with(&format!("{path}: TOML parse error at line 1")), "{err}");
        let err = expand(args("skipwise train --config")).expect_err("no file");
        assert!(err.contains("--config needs a file"), "{err}");
        let err = expand(args("skipwise train --config /nonexistent/run.toml")).expect_err("missing");
        assert!(err.starts_with("/nonexistent/run.toml: "), "{err}");
        // A value of the wrong type is clap's error, naming the flag, as on the command line.
        let path = temp("type.toml", "data = \"log.csv\"\nepochs = \"many\"\n");
        let argv = expand(args(&format!("skipwise train --config {path}"))).expect("expands");
        let err = Cli::command().try_get_matches_from(argv).expect_err("not a number").to_string();
        assert!(err.contains("--epochs") && err.contains("many"), "{err}");
    }

    #[test]
    fn the_written_config_repeats_the_run() {
        let argv = args("skipwise compare --data log.csv --backbone stamp --methods vanilla,fp-metric --seeds 2,3 --lambda 0.25 --plot p.svg");
        let (Cli { command: Command::Compare(first) }, matches) = parse(argv) else { panic!("compare") };
        let (_, sub) = matches.subcommand().expect("a command");
        let text = effective(sub, "compare");
        assert!(text.contains("lambda = 0.25") && text.contains("methods = [\"vanilla\", \"fp-metric\"]"), "{text}");
        let path = temp("effective.toml", &text);
        let (Cli { command: Command::Compare(again) }, _) = parse(expand(args(&format!("skipwise compare --config {path}"))).expect("expands")) else { panic!("compare") };
        assert_eq!(again.config.as_deref(), Some(path.as_str()));
        let again = crate::cli::Compare { config: None, ..again };
        assert_eq!(format!("{again:?}"), format!("{first:?}"));
    }
}

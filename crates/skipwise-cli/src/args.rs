//! A small `--key value` parser: every flag is named in the command's help, unknown flags and
//! unreadable values are errors that say which flag and why.

use std::collections::HashMap;
use std::str::FromStr;

pub struct Args {
    values: HashMap<String, String>,
    used: std::cell::RefCell<Vec<String>>,
}

impl Args {
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut it = raw.iter();
        while let Some(flag) = it.next() {
            let key = flag.strip_prefix("--").ok_or_else(|| format!("expected a --flag, got {flag:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            values.insert(key.to_string(), value.clone());
        }
        Ok(Self { values, used: Default::default() })
    }

    pub fn get<T: FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        self.used.borrow_mut().push(key.to_string());
        match self.values.get(key) {
            Some(v) => v.parse().map_err(|_| format!("--{key}: cannot read {v:?}")),
            None => Ok(default),
        }
    }

    pub fn list<T: FromStr>(&self, key: &str, default: &str) -> Result<Vec<T>, String> {
        let raw: String = self.get(key, default.to_string())?;
        raw.split(',').filter(|s| !s.is_empty()).map(|s| s.trim().parse().map_err(|_| format!("--{key}: cannot read {s:?}"))).collect()
    }

    /// Errors on flags that no `get` asked for (typos).
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        match self.values.keys().find(|k| !used.contains(k)) {
            Some(k) => Err(format!("unknown flag --{k}")),
            None => Ok(()),
        }
    }
}

//! `simulate`: the listener simulator's sessions as a generic CSV, with the ground truth of each
//! play (`liked`: the listener likes the item's genre; `kind`: positive, misclick, curiosity,
//! mild or context, see `skipwise_core::sim`), so that `train`, `eval` and `compare` run on data
//! whose FPs are known. A page catalog's listeners (`--catalog`) give the items the
//! page's demo catalogs show.

use crate::cli::{PageCatalog, Simulate};
use crate::commands::write_text;
use skipwise_core::catalog::CatalogKind;
use skipwise_core::sim::{SimConfig, Simulator};

/// The `--columns` that read the file back (`train --format csv --columns …`).
pub use skipwise_core::sim::CSV_COLUMNS as COLUMNS;

pub fn simulate(args: &Simulate) -> Result<(), String> {
    let config = match args.catalog {
        Some(PageCatalog::Music) => CatalogKind::Music.sim_config(),
        Some(PageCatalog::Movies) => CatalogKind::Movies.sim_config(),
        None => SimConfig { n_items: args.items, n_listeners: args.listeners, fp_share: args.fp_share, seed: args.seed, fp_mix: args.fp_mix, ..SimConfig::default() },
    };
    config.validate()?;
    let csv = Simulator::new(config).csv();
    let (plays, liked) = (csv.plays, csv.liked);
    write_text(&args.out, csv.text)?;
    println!(
        "{}: {} sessions, {plays} plays, {:.1} % of them of disliked items (the FPs to find); read it back with\n  --format csv --columns {COLUMNS}",
        args.out,
        csv.sessions,
        100.0 * (plays - liked) as f64 / plays.max(1) as f64
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use skipwise_core::data::{Dataset, FpRule};
    use skipwise_core::loaders::{self, ColumnMap, Format, Options};

    /// The file reads back through the generic CSV loader into the simulator's own dataset, and
    /// its ground truth is what the default FP rule finds (a disliked item is skipped early).
    #[test]
    fn the_simulated_csv_reads_back_as_the_simulators_dataset_with_its_ground_truth() {
        let dir = std::env::temp_dir().join(format!("skipwise-simulate-{}", std::process::id()));
        let out = dir.join("sim.csv");
        let cli = crate::cli::Cli::try_parse_from(["skipwise", "simulate", "--catalog", "movies", "--out", out.to_str().unwrap_or_default()]).expect("parses");
        let crate::cli::Command::Simulate(args) = cli.command else { panic!("simulate") };
        super::simulate(&args).expect("writes");
        let text = std::fs::read_to_string(&out).expect("csv");
        let options = Options { columns: Some(ColumnMap::parse(super::COLUMNS).expect("columns")), ..Options::default() };
        let loaded = loaders::read(text.as_bytes(), "sim.csv", Format::Csv, &options).expect("reads back");
        let read = Dataset::from_events(&loaded.events, &FpRule::default(), 1800.0, 2).expect("dataset");
        let direct = skipwise_core::sim::Simulator::new(skipwise_core::catalog::CatalogKind::Movies.sim_config()).dataset(&FpRule::default());
        assert_eq!(read.sessions.len(), direct.sessions.len());
        assert_eq!(read.fp_share(), direct.fp_share());
        // Ground truth: liked is exactly "not an FP" under the default rule.
        let fps = read.sessions.iter().flat_map(|s| s.clicks.iter()).filter(|c| c.fp).count();
        let disliked = text.lines().skip(1).filter(|l| l.ends_with(",false,curiosity")).count();
        assert_eq!(fps, disliked, "every FP a curiosity click on a disliked item (the default mix)");
        assert_eq!(text.lines().skip(1).filter(|l| l.ends_with(",true,positive")).count(), text.lines().count() - 1 - fps);
        std::fs::remove_dir_all(&dir).ok();
    }
}

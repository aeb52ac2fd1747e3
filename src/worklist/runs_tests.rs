use super::{ExportDirError, Runs};

async fn runs(root: Option<std::path::PathBuf>) -> (Runs, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", data.path().join("t.db").display());
    let store = crate::storage::connect(&url, 1).await.unwrap();
    let runs = Runs::new(store, root, data.path().into(), chrono_tz::Tz::UTC, None);
    (runs, data)
}

#[tokio::test]
async fn an_export_directory_is_the_configured_one_or_inside_it() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("2026-06-15")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
    let (r, _data) = runs(Some(root.path().to_path_buf())).await;
    let canonical = root.path().canonicalize().unwrap();
    assert_eq!(r.export_dir(None), Ok(canonical.clone()));
    assert_eq!(
        r.export_dir(Some("2026-06-15")),
        Ok(canonical.join("2026-06-15"))
    );
    for (sub, why) in [
        ("..", ExportDirError::Outside),
        ("2026-06-15/../..", ExportDirError::Outside),
        ("/etc", ExportDirError::Outside),
        ("link", ExportDirError::Outside),
        ("missing", ExportDirError::Missing),
    ] {
        assert_eq!(r.export_dir(Some(sub)), Err(why), "{sub}");
    }
    let (unconfigured, _data) = runs(None).await;
    assert_eq!(
        unconfigured.export_dir(None),
        Err(ExportDirError::NotConfigured)
    );
}

//! `backup` / `restore`: one portable file; restoring it on the other store and backing up
//! again gives the same bytes.

use crate::{Kind, both, empty_store};

both!(backup_restores_byte_for_byte_on_both_stores, |t| {
    // Some history beyond the demo load: sessions, tokens, audit entries.
    let _ = t.session(crate::HEAD).await;
    let _ = t.token(crate::ADMIN, model::TokenScope::Read).await;
    let mut first = Vec::new();
    let summary = t.store.backup(&mut first, &|_| {}).await.unwrap();
    assert!(summary.rows() > 3000);
    for target in [Kind::Sqlite, Kind::Postgres] {
        let Some(target_store) = empty_store(target).await else { continue };
        let store = &target_store.store;
        let restored = store.restore(&mut first.as_slice(), &|_| {}).await.unwrap();
        assert_eq!(restored.rows(), summary.rows());
        let mut second = Vec::new();
        store.backup(&mut second, &|_| {}).await.unwrap();
        assert!(first == second, "{:?} -> {target:?}: backups differ", t.kind);
        // The restored database keeps working: new ids continue after the restored ones.
        let ctx = store::AuditContext::system(jiff::Timestamp::now());
        let team = store.team_save(&ctx, None, "After restore", None).await.unwrap();
        assert!(team.id.0 > 1);
        let lead = store::NewLead {
            first_name: "Nieuw".into(),
            last_name: "Na herstel".into(),
            company: "Herstel B.V.".into(),
            email: None,
            phone: None,
            source: String::new(),
            campaign: String::new(),
            owner_id: model::UserId(1),
        };
        let id = store.lead_create(&ctx, &lead).await.unwrap();
        assert!(id.0 > 1, "lead ids continue after the restored ones");
        // Restoring twice is refused and changes nothing.
        let err = store.restore(&mut first.as_slice(), &|_| {}).await.unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }
});

both!(damaged_backups_are_refused_without_writing, |t| {
    let mut file = Vec::new();
    t.store.backup(&mut file, &|_| {}).await.unwrap();
    let text = String::from_utf8(file).unwrap();
    let truncated = &text[..text.len() / 2];
    let truncated = &truncated[..truncated.rfind('\n').unwrap() + 1];
    let Some(target_store) = empty_store(t.kind).await else { return };
    let store = &target_store.store;
    let err = store.restore(&mut truncated.as_bytes(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(store.is_empty().await.unwrap(), "nothing was written");
    let err = store.restore(&mut "{\"format\":\"something-else\"}\n".as_bytes(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    let bad_row = text.replacen("\"Benelux\"", "12", 1);
    let err = store.restore(&mut bad_row.as_bytes(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("line"), "{err}");
    assert!(store.is_empty().await.unwrap());
});

both!(the_backup_covers_every_table, |t| {
    let mut tables = t.store.table_names().await.unwrap();
    tables.sort();
    let mut known: Vec<String> = store::TABLES.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(tables, known, "a new table must be added to store::TABLES (in dependency order)");
});

/// The demo generator gives the same data for the same seed on both stores: their backups are
/// the same bytes.
#[tokio::test]
async fn the_same_seed_gives_the_same_database_on_both_stores() {
    let now: jiff::Timestamp = crate::NOW.parse().unwrap();
    let mut files = vec![];
    for kind in [Kind::Sqlite, Kind::Postgres, Kind::Sqlite] {
        let Some(empty) = empty_store(kind).await else { continue };
        app::load_demo(&empty.store, demo::Scale::Small, 11, now, &|_| {}, &|_| {}).await.unwrap();
        let mut file = Vec::new();
        empty.store.backup(&mut file, &|_| {}).await.unwrap();
        files.push((kind, file));
    }
    assert!(files.len() >= 2);
    for (kind, file) in &files[1..] {
        assert!(*file == files[0].1, "{kind:?} differs from the first SQLite load");
    }
    let Some(other) = empty_store(Kind::Sqlite).await else { unreachable!() };
    app::load_demo(&other.store, demo::Scale::Small, 12, now, &|_| {}, &|_| {}).await.unwrap();
    let mut file = Vec::new();
    other.store.backup(&mut file, &|_| {}).await.unwrap();
    assert!(file != files[0].1, "another seed gives another company");
}

//! The `p30` binary as an operator runs it: `verify` on a clean and a tampered data dir, and the one-line
//! error with a non-zero exit.

use std::process::Command;

use events::value::{Date, LongText};
use events::{Change, NewEvent, StreamId};
use eventstore::{Append, Log, Options};

fn p30() -> Command {
    Command::new(p30_tests::p30_binary())
}

fn fill(dir: &std::path::Path, n: u64) {
    let log = Log::open(dir, Options::default()).unwrap();
    for i in 0..n {
        let p = bench::dataset::numbered_procedure(i);
        let event = NewEvent {
            stream: StreamId::procedure(&p.code),
            effective_on: Date::parse("2011-01-01").unwrap(),
            legal_basis: LongText::default(),
            note: LongText::default(),
            change: Change::ProcedureRegistered(p),
        };
        log.append(Append {
            events: vec![event],
            expected: vec![],
            actor: "t".into(),
            command_id: None,
            fingerprint: [0; 32],
        })
        .unwrap();
    }
}

#[test]
fn verify_passes_on_a_clean_log_and_names_the_first_bad_seq_of_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 6);
    let ok = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("6 events"));

    {
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let events = db.keyspace("events", fjall::KeyspaceCreateOptions::default).unwrap();
        let mut value = events.get(4u64.to_be_bytes()).unwrap().unwrap().to_vec();
        let last = value.len() - 1;
        value[last] ^= 0x01;
        events.insert(4u64.to_be_bytes(), value).unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let bad = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("seq 4"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn verify_refuses_a_data_dir_a_server_holds_open_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let out = p30().args(["verify", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server running"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    drop(log);
}

#[test]
fn verify_of_a_missing_dir_is_an_error_not_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = p30().args(["verify", "--data-dir"]).arg(dir.path().join("nope")).output().unwrap();
    assert!(!out.status.success());
    assert!(!dir.path().join("nope").exists(), "verify must not create a data dir");
}

const CSV_HEADER: &str = "code,name,sector,agency,level,applicant,processing_days,steps,documents,fee_vnd,out_of_pocket_vnd,applicant_hours,annual_volume,online,legal_basis,effective_on";

fn ndjson_line(code: &str) -> String {
    serde_json::json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3, "documents": [], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": "", "effective_on": "2011-01-01"
    })
    .to_string()
}

#[test]
fn an_ndjson_inventory_goes_in_whole_and_comes_back_out_as_ndjson_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.ndjson");
    std::fs::write(&file, [ndjson_line("3.000003"), ndjson_line("3.000004")].join("\n")).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = p30().args(["import", "--data-dir"]).arg(&data).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2"));

    let nd = p30().args(["export", "--data-dir"]).arg(&data).output().unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&nd.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["payload"]["code"], "3.000004");
    assert_eq!(lines[0]["actor"], "import:inventory.ndjson");

    let csv = p30().args(["export", "--format", "csv", "--after", "1", "--data-dir"]).arg(&data).output().unwrap();
    let text = String::from_utf8_lossy(&csv.stdout).to_string();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("seq,event_id,stream,version,type"), "{text}");
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[1].starts_with("2,"), "{text}");
}

#[test]
fn a_csv_inventory_with_a_bom_and_documents_goes_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiem-ke.csv");
    let row = "1.004227,Cấp giấy phép xây dựng,Xây dựng,SXD,district,citizen,20,3,\"Đơn đề nghị×1; Bản vẽ thiết kế×2\",75000,100000,16,1200,none,,2011-01-01";
    std::fs::write(&file, format!("\u{feff}{CSV_HEADER}\n{row}\n")).unwrap();
    let out = p30().args(["import", "--data-dir"]).arg(dir.path()).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let events = log.read_after(0, 10).unwrap();
    let Change::ProcedureRegistered(p) = &events[0].change else { panic!("not a registration") };
    assert_eq!(p.documents.len(), 2);
    assert_eq!(p.documents[1].copies.get(), 2);
    assert_eq!(p.name.as_str(), "Cấp giấy phép xây dựng");
}

#[test]
fn an_inventory_with_a_bad_line_goes_in_not_at_all_and_the_error_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiem-ke.csv");
    let good = "1.000001,Thủ tục A,Xây dựng,SXD,district,citizen,20,3,,75000,100000,16,1200,none,,2011-01-01";
    let bad = "1.000002,Thủ tục B,Xây dựng,SXD,district,citizen,20,3,,-5,100000,16,1200,none,,2011-01-01";
    std::fs::write(&file, format!("{CSV_HEADER}\n{good}\n{bad}\n")).unwrap();
    let out = p30().args(["import", "--data-dir"]).arg(dir.path()).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column 10 (fee_vnd)"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.head(), 0, "nothing may go in");
    drop(log);

    let dup = dir.path().join("dup.ndjson");
    std::fs::write(&dup, [ndjson_line("3.000003"), ndjson_line("3.000003")].join("\n")).unwrap();
    let out = p30().args(["import", "--data-dir"]).arg(dir.path()).arg(&dup).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2 (/code)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn import_and_export_say_so_in_one_line_when_a_server_holds_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.ndjson");
    std::fs::write(&file, ndjson_line("3.000003")).unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    for args in [vec!["import", "--data-dir"], vec!["export", "--data-dir"]] {
        let mut cmd = p30();
        cmd.args(&args).arg(dir.path());
        if args[0] == "import" {
            cmd.arg(&file);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("server running"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    drop(log);
}

#[test]
fn report_prints_the_reductions_of_the_data_dir_as_a_table_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        runtime.block_on(async {
            let grant = server::access::Grant {
                token_sha256: String::new(),
                role: server::access::Role::Admin,
                agencies: vec![],
                name: "t".into(),
            };
            for command in server::demo::worked_example() {
                let r =
                    server::record::Recording { command, grant: grant.clone(), idempotency: None, expected: vec![] };
                server::record::record(&log, r).await.unwrap();
            }
        });
        log.close();
    }
    let out = p30()
        .args(["report", "--as-of", "2013-12-31", "--group-by", "agency", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    let sxd = table.lines().find(|l| l.starts_with("SXD")).unwrap_or_else(|| panic!("{table}"));
    assert!(sxd.contains("690.000.000") && sxd.contains("510.000.000") && sxd.contains("26,09 %"), "{sxd}");

    let out = p30()
        .args(["report", "--as-of", "2011-12-31", "--format", "json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["groups"][0]["current_annual_cost_vnd"], 2_328_000_000u64);

    let out = p30().args(["report", "--as-of", "31/12/2013", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--as-of"));
}

#[test]
fn token_create_prints_the_token_last_and_a_running_server_accepts_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let running = runtime.block_on(p30_tests::TestServer::start_with(|c| server::Config { private: true, ..c }));
    let dir = running.data_dir().to_owned();
    let out = p30()
        .args([
            "token",
            "create",
            "--role",
            "recorder",
            "--agency",
            "SXD",
            "--agency",
            "STP",
            "--name",
            "Chị Lan",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout.trim().lines().last().unwrap().to_owned();
    assert!(token.starts_with("p30_"), "{stdout}");
    let status = runtime.block_on(async {
        reqwest::Client::new().get(running.url("/v1/reductions")).bearer_auth(&token).send().await.unwrap().status()
    });
    assert_eq!(status, 200);
    let bad = p30().args(["token", "create", "--role", "recorder", "--data-dir"]).arg(&dir).output().unwrap();
    assert!(!bad.status.success(), "a recorder without an agency is refused");
    runtime.block_on(running.stop());
}

//! Coverage figures computed by hand on a tiny network, the straight-line fallback, uncovered
//! areas and greedy suggestions.
use diming::coverage::{self as cov, DemandSet, Method, Query};
use diming::crs::LocalMetric;
use diming::network::Network;

/// Five nodes on a straight street, 100 m apart; demand points on the nodes.
fn tiny() -> (Network, DemandSet, Vec<(f64, f64)>) {
    let m = LocalMetric::new(121.47, 31.23);
    let pts: Vec<(f64, f64)> = (0..5).map(|i| m.inv(i as f64 * 100.0, 0.0)).collect();
    let edges: Vec<(u32, u32, f32)> = (0..4)
        .map(|i| {
            (
                i,
                i + 1,
                diming::crs::distance_m(pts[i as usize], pts[i as usize + 1]) as f32,
            )
        })
        .collect();
    let net = Network::from_edges(
        pts.iter().map(|p| p.0).collect(),
        pts.iter().map(|p| p.1).collect(),
        &edges,
        serde_json::json!({"source": "test"}),
    );
    let mut d = DemandSet::default();
    let weights = [1.0, 1.0, 1.0, 2.0, 3.0];
    for (i, p) in pts.iter().enumerate() {
        let div = if i < 3 {
            "310101002001"
        } else {
            "310101002002"
        };
        d.push(format!("a{i}"), p.0, p.1, weights[i], div);
    }
    (net, d, pts)
}

#[test]
fn hand_computed_coverage_network_and_straight_line() {
    let (net, mut d, pts) = tiny();
    d.snap(&net);
    // 2.5 min at 6 km/h = 250 m: nodes 0, 1, 2 (0, 100, 200 m) covered, 3 and 4 not
    let q = Query {
        minutes: 2.5,
        speed_kmh: 6.0,
    };
    assert!((q.limit_m() - 250.0).abs() < 1e-9);
    let r = cov::coverage(Some(&net), &d, &[pts[0]], "310101002", &q);
    assert_eq!(r.method, Method::Network);
    assert_eq!((r.total.addresses, r.total.covered), (5, 3));
    assert!((r.total.rate - 0.6).abs() < 1e-9);
    assert!((r.total.weight_rate - 3.0 / 8.0).abs() < 1e-9);
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[0].division, "310101002001");
    assert_eq!((r.rows[0].addresses, r.rows[0].covered), (3, 3));
    assert_eq!((r.rows[1].addresses, r.rows[1].covered), (2, 0));
    let unc: Vec<String> = r.uncovered().map(|i| d.id(i)).collect();
    assert_eq!(unc, ["a3", "a4"]);
    // a community code selects only its points
    let r2 = cov::coverage(Some(&net), &d, &[pts[0]], "310101002002", &q);
    assert_eq!((r2.total.addresses, r2.total.covered), (2, 0));

    // straight line ×1.3: 100 × 1.3 = 130 ≤ 250, 200 × 1.3 = 260 > 250 → 2 of 5
    let mut d2 = d.clone();
    d2.snaps = None;
    let r3 = cov::coverage(None, &d2, &[pts[0]], "310101002", &q);
    assert_eq!(r3.method, Method::StraightLine);
    assert_eq!(r3.total.covered, 2);

    // uncovered area: one group holding a3 and a4 (100 m apart → touching 100 m cells)
    let idx: Vec<usize> = r.uncovered().collect();
    let areas = cov::uncovered_areas(&d, &idx, 100.0, 10);
    assert_eq!(areas.len(), 1);
    assert_eq!(areas[0].addresses, 2);
    assert!((areas[0].weight - 5.0).abs() < 1e-9);
    assert!(
        areas[0].area_m2 > 15_000.0 && areas[0].area_m2 < 45_000.0,
        "{}",
        areas[0].area_m2
    );
}

#[test]
fn greedy_suggestion_gains() {
    let (net, mut d, pts) = tiny();
    d.snap(&net);
    let q = Query {
        minutes: 1.0,
        speed_kmh: 6.0,
    }; // 100 m
       // facility at node 0 covers a0, a1
    let r = cov::coverage(Some(&net), &d, &[pts[0]], "310101002", &q);
    assert_eq!(r.total.covered, 2);
    let cands = vec![
        (pts[2].0, pts[2].1, "at a2".to_string()), // covers a2, a3 → weight 3
        (pts[4].0, pts[4].1, "at a4".to_string()), // covers a3, a4 → weight 5
        (pts[3].0, pts[3].1, "at a3".to_string()), // covers a2, a3, a4 → weight 6
    ];
    let picks = cov::suggest(Some(&net), &d, &r, &cands, 2);
    assert_eq!(picks.len(), 1, "after a3 everything is covered: {picks:?}");
    assert_eq!(picks[0].label, "at a3");
    assert_eq!(picks[0].gain, 3);
    assert!((picks[0].gain_weight - 6.0).abs() < 1e-9);
    assert!((picks[0].rate_after - 1.0).abs() < 1e-9);
    // without the best candidate: a4 first (weight 5), then a2 (adds a2 only: weight 1)
    let picks = cov::suggest(Some(&net), &d, &r, &cands[..2], 2);
    assert_eq!(
        picks
            .iter()
            .map(|p| (p.label.as_str(), p.gain))
            .collect::<Vec<_>>(),
        [("at a4", 2), ("at a2", 1)]
    );
    assert!((picks[1].rate_after - 1.0).abs() < 1e-9);
}

#[test]
fn network_file_round_trip_and_corruption() {
    let (net, _, _) = tiny();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("n.bin");
    net.write(&p).unwrap();
    let back = Network::read(&p).unwrap();
    assert_eq!(back.node_count(), 5);
    assert_eq!(back.arc_count(), 8);
    assert_eq!(back.length_m, net.length_m);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&p, &bytes).unwrap();
    assert!(Network::read(&p).is_err());
}

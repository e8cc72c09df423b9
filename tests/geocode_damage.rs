//! Held-out queries built from the shipped (synthetic) Huangpu address sample with the kinds of
//! damage of issue item 4 (Traditional, full-width, spaces/punctuation, missing province/city,
//! short county name, noise after the address, phone numbers, Chinese numerals, a one-character
//! typo in the road name) must return the source address as the top candidate (≥ 98 %).

mod common;

use diming::addresses::bench::{damaged_query, DAMAGE};
use diming::addresses::AddressBook;
use rand::{Rng, SeedableRng};

#[test]
fn damaged_queries_find_their_source() {
    let data = common::root().join("data");
    let d =
        diming::divisions::Divisions::build(diming::store::load_embedded(&data).unwrap()).unwrap();
    let book = AddressBook::load_embedded(&d, &data).unwrap();
    assert!(
        book.len() > 5000,
        "the Huangpu sample is missing ({} rows)",
        book.len()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut total = 0;
    let mut ok = 0;
    let mut per_kind: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    let mut misses = Vec::new();
    while total < 1500 {
        let ri = rng.gen_range(0..book.len() as u32);
        if book.address(ri).status != "current" {
            continue;
        }
        let kind = DAMAGE[total % DAMAGE.len()];
        let Some(q) = damaged_query(&book, ri, kind, &mut rng) else {
            continue;
        };
        total += 1;
        let g = book.geocode(&q, None, 3);
        let e = per_kind.entry(kind).or_default();
        e.1 += 1;
        if g.candidates.first().is_some_and(|c| c.rec == Some(ri)) {
            ok += 1;
            e.0 += 1;
        } else if misses.len() < 20 {
            misses.push(format!(
                "{kind}: {q} → {:?} (want {})",
                g.candidates.first().map(|c| (&c.address, c.level)),
                book.full_text(ri)
            ));
        }
    }
    let rate = ok as f64 / total as f64;
    eprintln!(
        "top-1 {ok}/{total} = {:.2} %; per kind {per_kind:?}",
        rate * 100.0
    );
    assert!(
        rate >= 0.98,
        "top-1 rate {:.2} % < 98 %:\n{}",
        rate * 100.0,
        misses.join("\n")
    );
}

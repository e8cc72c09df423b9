//! Held-out queries built from the shipped (synthetic) Huangpu address sample with the kinds of
//! damage of issue item 4 (Traditional, full-width, spaces/punctuation, missing province/city,
//! short county name, noise after the address, phone numbers, Chinese numerals, a one-character
//! typo in the road name) must return the source address as the top candidate (≥ 98 %).

mod common;

use diming::addresses::bench::{damaged_query, DAMAGE};
use diming::addresses::AddressBook;
use rand::{Rng, SeedableRng};

/// The divisions and the shipped address sample, as the embedded server loads them.
fn sample_book() -> (diming::divisions::Divisions, AddressBook) {
    let data = common::root().join("data");
    let d =
        diming::divisions::Divisions::build(diming::store::load_embedded(&data).unwrap()).unwrap();
    let book = AddressBook::load_embedded(&d, &data).unwrap();
    (d, book)
}

#[test]
fn damaged_queries_find_their_source() {
    let (_, book) = sample_book();
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

/// The book keeps no code text: a code is read back into its division and serial. Every record
/// of the sample is found by the code it answers with; a record given without a code is found
/// by its standard one; a later record with the same code takes it over; a code that is not
/// one finds nothing.
#[test]
fn every_code_finds_its_record() {
    let (d, book) = sample_book();
    let mut seen = std::collections::HashMap::new();
    for ri in 0..book.len() as u32 {
        let code = book.code_of(ri);
        assert_eq!(book.address(ri).code, code);
        // (the last record of a repeated code is the one found)
        seen.insert(code, ri);
    }
    assert!(seen.len() > 5000, "{} codes", seen.len());
    for (code, &ri) in &seen {
        assert_eq!(book.find_code(code), Some(ri), "{code}");
    }
    let (code, _) = seen.iter().next().unwrap();
    let (div, serial) = code.split_at(code.len() - 12);
    let other = (serial.parse::<u64>().unwrap() + 1) % 1_000_000_000_000;
    for bad in [
        format!("{div}{other:012}"),
        format!("{div}+{}", &serial[1..]),
        format!("{div}{serial}0"),
        serial.to_string(),
        String::new(),
        format!("{}{serial}", &div[..div.len() - 1]),
    ] {
        if !seen.contains_key(&bad) {
            assert_eq!(book.find_code(&bad), None, "{bad}");
        }
    }

    let mut a = book.address(0);
    let code = a.code.clone();
    a.code = String::new();
    let mut b = a.clone();
    b.code = code.clone();
    b.lon += 0.001;
    let (small, errs) = AddressBook::build(&d, vec![a.clone(), b], "test");
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(small.find_code(&code), Some(1));
    let (small, _) = AddressBook::build(&d, vec![a], "test");
    assert_eq!(small.find_code(&code), Some(0));
    assert_eq!(small.address(0).code, code);
}

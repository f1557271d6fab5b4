//! Writes a synthetic English Prescribing Dataset month: NHSBSA's 26 columns in their order,
//! plausible values, one row per practice and drug, practices in the embedded table's 42 ICBs
//! (as many as each has). Seeded and fast (about 1 GB/s), for `benches/prescribing.sh` and
//! `benches/observed.sh`.
//!
//! Presentations come in equivalence groups, as BNF codes do: 1,000 groups, each a generic
//! (`…AA` + strength + the same strength) and three brands of it (another product, the
//! generic's strength as the equivalent), the brands dearer per unit by half to two and a half
//! times. A row is a brand with probability `BRAND_PERCENT`/100 (default 10), so a month
//! written with a higher share has more excess over the cheapest equivalent.
//!
//! ```sh
//! cargo run --release --example generate_epd -- OUT.csv ROWS [YEAR_MONTH] [SEED] [BRAND_PERCENT]
//! ```
//!
//! Prints the rows, bytes and the exact totals of ITEMS, NIC and ACTUAL_COST on stdout
//! (`key=value` lines), so a bench can check the aggregation against them.

use std::io::Write;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::SplitMix64;

use icb_impact::data::IcbTable;

const HEADER: &str = "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,ADDRESS_1,ADDRESS_2,ADDRESS_3,ADDRESS_4,POSTCODE,BNF_CHEMICAL_SUBSTANCE,CHEMICAL_SUBSTANCE_BNF_DESCR,BNF_CODE,BNF_DESCRIPTION,BNF_CHAPTER_PLUS_CODE,QUANTITY,ITEMS,TOTAL_QUANTITY,ADQUSAGE,NIC,ACTUAL_COST,UNIDENTIFIED\n";

/// The seed of the presentations' prices.
const PRICE_SEED: u64 = 1_000_003;

const CHAPTERS: [&str; 15] = [
    "01: Gastro-Intestinal System",
    "02: Cardiovascular System",
    "03: Respiratory System",
    "04: Central Nervous System",
    "05: Infections",
    "06: Endocrine System",
    "07: Obstetrics, Gynaecology and Urinary-Tract Disorders",
    "08: Malignant Disease and Immunosuppression",
    "09: Nutrition and Blood",
    "10: Musculoskeletal and Joint Diseases",
    "11: Eye",
    "12: Ear, Nose and Oropharynx",
    "13: Skin",
    "20: Dressings",
    "21: Appliances",
];

const SUBSTANCES: [&str; 12] = [
    "Atorvastatin",
    "Omeprazole",
    "Amlodipine",
    "Metformin hydrochloride",
    "Salbutamol",
    "Levothyroxine sodium",
    "Lansoprazole",
    "Ramipril",
    "Sertraline hydrochloride",
    "Apixaban",
    "Paracetamol",
    "Co-codamol",
];

fn push_int(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[k..]);
}

/// `value / 10^decimals` with all its decimals.
fn push_fixed(buf: &mut Vec<u8>, value: u64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    push_int(buf, value / scale);
    buf.push(b'.');
    let fraction = value % scale;
    let mut width = decimals;
    let mut f = fraction.max(1);
    while f > 0 {
        f /= 10;
        width -= 1;
    }
    for _ in 0..width {
        buf.push(b'0');
    }
    push_int(buf, fraction);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(rows)) = (args.first(), args.get(1)) else {
        eprintln!("usage: generate_epd OUT.csv ROWS [YEAR_MONTH] [SEED] [BRAND_PERCENT]");
        std::process::exit(2);
    };
    let rows: u64 = rows.parse()?;
    let year_month: u32 = args.get(2).map_or(Ok(202401), |s| s.parse())?;
    let seed: u64 = args.get(3).map_or(Ok(20240101), |s| s.parse())?;
    let brand_percent: u64 = args.get(4).map_or(Ok(10), |s| s.parse())?;
    let table = IcbTable::load(None, &["gp_practices".to_string()])?;
    let practices_per_icb = table.numeric("gp_practices").expect("asked for");
    let mut rng = SplitMix64::seed_from_u64(seed);

    // Everything before BNF_CHEMICAL_SUBSTANCE, one per practice.
    let mut practices: Vec<Vec<u8>> = Vec::new();
    for (k, code) in table.codes.iter().enumerate() {
        let region = table.regions[k].to_uppercase();
        let name = table.names[k].to_uppercase().replace(',', "");
        for p in 0..practices_per_icb[k] as usize {
            let practice = format!(
                "{}{:05}",
                (b'A' + (practices.len() % 26) as u8) as char,
                practices.len()
            );
            let street = 1 + rng.random_range(0..300u64);
            practices.push(
                format!(
                    "{year_month},{region},Y{:02},{name},{code},{name} - {:02}{},{:02}{},\"THE {} SURGERY, {}\",{practice},{street} HIGH STREET,MEDICAL CENTRE,TOWN {k},COUNTY {},AB{} {}CD,",
                    56 + k % 8,
                    k,
                    (b'A' + (p % 3) as u8) as char,
                    k,
                    (b'A' + (p % 3) as u8) as char,
                    code,
                    p,
                    k % 9,
                    k % 90,
                    p % 10
                )
                .into_bytes(),
            );
        }
    }
    // BNF_CHEMICAL_SUBSTANCE to BNF_CHAPTER_PLUS_CODE, one per presentation, with a unit
    // price in hundredths of a penny: for each group, the generic and then its three brands.
    // The prices come from their own stream, the same whatever the seed, so every month has
    // the same presentations at the same prices; the seed chooses the rows.
    let mut groups: Vec<[(Vec<u8>, u64); 4]> = Vec::new();
    let mut prices = SplitMix64::seed_from_u64(PRICE_SEED);
    for d in 0..1000u64 {
        let chapter = CHAPTERS[(d % CHAPTERS.len() as u64) as usize];
        let substance = SUBSTANCES[(d % SUBSTANCES.len() as u64) as usize];
        let chemical = format!(
            "{}{:02}000{}0",
            &chapter[..2],
            d % 40,
            (b'A' + (d % 26) as u8) as char
        );
        let strength_mg = 5 * (1 + d % 40);
        let strength = format!(
            "{}{}",
            (b'A' + ((d / 26) % 26) as u8) as char,
            (b'A' + (d % 26) as u8) as char
        );
        let generic_price = 1 + prices.random_range(0..1_500u64);
        let presentation = |product: &str, name: &str, price: u64| {
            (
                format!(
                    "{chemical},{substance},{chemical}{product}{strength}{strength},\"{name} {strength_mg}mg tablets\",\"{chapter}\",",
                )
                .into_bytes(),
                price,
            )
        };
        let brand = |k: u64, rng: &mut SplitMix64| {
            let price = generic_price * (150 + rng.random_range(0..200u64)) / 100;
            presentation(
                &format!("B{}", (b'A' + k as u8) as char),
                &format!("Brand{k} {substance}"),
                price,
            )
        };
        let generic = presentation("AA", substance, generic_price);
        let brands = [
            brand(0, &mut prices),
            brand(1, &mut prices),
            brand(2, &mut prices),
        ];
        let [b0, b1, b2] = brands;
        groups.push([generic, b0, b1, b2]);
    }

    let file = std::fs::File::create(out)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 23, file);
    writer.write_all(HEADER.as_bytes())?;
    let mut bytes = HEADER.len() as u64;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 23);
    let (mut items_total, mut nic_total, mut actual_total) = (0u64, 0u128, 0u128);
    let n_practices = practices.len() as u64;
    for row in 0..rows {
        // Rows sorted by practice, as EPD's are.
        let practice = &practices[(row * n_practices / rows.max(1)) as usize];
        let group = &groups[rng.random_range(0..groups.len() as u64) as usize];
        let which = match rng.random_range(0..100u64) < brand_percent {
            true => 1 + rng.random_range(0..3u64) as usize,
            false => 0,
        };
        let (drug, unit_price) = &group[which];
        let quantity = [7, 14, 28, 30, 56, 60, 84, 100][rng.random_range(0..8u64) as usize];
        let items = 1 + rng.random_range(0..8u64) * rng.random_range(0..6u64);
        let total = quantity * items;
        // Pence (NIC has two decimals); actual cost to the 1e-5 pound, 88–99% of the NIC.
        let nic = (total * unit_price).div_ceil(100);
        let actual = nic * 1000 * (8800 + rng.random_range(0..1100u64)) / 10_000;
        buf.extend_from_slice(practice);
        buf.extend_from_slice(drug);
        push_int(&mut buf, quantity);
        buf.push(b',');
        push_int(&mut buf, items);
        buf.push(b',');
        push_int(&mut buf, total);
        buf.push(b',');
        push_fixed(&mut buf, total * 10 / 3, 1);
        buf.push(b',');
        push_fixed(&mut buf, nic, 2);
        buf.push(b',');
        push_fixed(&mut buf, actual, 5);
        buf.extend_from_slice(b",0\n");
        items_total += items;
        nic_total += u128::from(nic);
        actual_total += u128::from(actual);
        if buf.len() > (1 << 23) - 4096 {
            writer.write_all(&buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
    }
    writer.write_all(&buf)?;
    bytes += buf.len() as u64;
    writer.flush()?;
    println!("rows={rows}");
    println!("bytes={bytes}");
    println!("practices={n_practices}");
    println!("items={items_total}");
    println!("nic_gbp={}.{:02}", nic_total / 100, nic_total % 100);
    // Pence, half up (every value is positive).
    let actual_pence = (actual_total + 500) / 1000;
    println!(
        "actual_cost_gbp={}.{:02}",
        actual_pence / 100,
        actual_pence % 100
    );
    Ok(())
}

//! Random streams keyed by what they draw, not by who draws them.
//!
//! Every draw of a factor comes from its own generator, seeded from
//! `(seed, iteration, entity, factor)`, where `entity` is [`NATIONAL`] for a factor shared by
//! all ICBs and the key of the ICB code otherwise, and `factor` is the key of the factor's
//! path in the scenario (`actions.cap.factors.uptake`). So the numbers do not depend on the
//! thread count or on the order of work, and adding or removing an action leaves every other
//! factor's draws unchanged (common random numbers across scenarios).

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator behind every stream: small, fast, portable and reproducible across platforms.
pub type StreamRng = Xoshiro256PlusPlus;

/// Entity key of draws shared by all ICBs.
pub const NATIONAL: u64 = 0x4e41_5449_4f4e_414c; // "NATIONAL"

/// SplitMix64's finaliser: a bijective 64-bit mix with full avalanche.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable 64-bit key for a name (FNV-1a, then mixed), the same on every platform and version.
pub fn key(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The generator for one factor's draw in one iteration for one entity.
#[inline]
pub fn stream(seed: u64, iteration: u64, entity: u64, factor: u64) -> StreamRng {
    let h = mix(mix(mix(mix(seed) ^ iteration) ^ entity) ^ factor);
    StreamRng::seed_from_u64(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_depend_on_every_part_of_the_key() {
        let base = stream(1, 2, 3, 4).next_u64();
        assert_eq!(base, stream(1, 2, 3, 4).next_u64());
        for other in [
            stream(0, 2, 3, 4),
            stream(1, 0, 3, 4),
            stream(1, 2, 0, 4),
            stream(1, 2, 3, 0),
        ] {
            assert_ne!(base, other.clone().next_u64());
        }
        // Swapping parts must not give the same stream.
        assert_ne!(base, stream(1, 3, 2, 4).next_u64());
    }

    #[test]
    fn keys_are_stable_across_versions() {
        // Pinned: a change here silently changes every published result.
        assert_eq!(key(""), mix(0xcbf2_9ce4_8422_2325));
        assert_ne!(key("actions.a.factors.x"), key("actions.a.factors.y"));
        assert_eq!(
            stream(20240801, 0, NATIONAL, key("x")).next_u64(),
            0xbda3_ea7e_c889_34fa
        );
    }
}

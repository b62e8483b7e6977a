// Allocations behind Rust's standard library (Vec, HashMap, Box), compiled
// `rustc -C opt-level=2 -g` by the tests. The first argument picks a
// scenario; it allocates from one marked line between the "before" and
// "after" snapshots, so the diff's top row must be that line, not the
// standard library's allocator code inlined into it.
use std::collections::HashMap;
use std::os::raw::{c_char, c_int, c_void};

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// heapdiff_snapshot when the recorder is loaded, as heapdiff.h's helper does it.
fn snapshot(label: &[u8]) -> c_int {
    let symbol = unsafe { dlsym(std::ptr::null_mut(), b"heapdiff_snapshot\0".as_ptr() as *const c_char) };
    if symbol.is_null() {
        return 1;
    }
    let function: extern "C" fn(*const c_char) -> c_int = unsafe { std::mem::transmute(symbol) };
    function(label.as_ptr() as *const c_char)
}

struct Node {
    value: u64,
    weights: [f64; 8],
}

#[inline(never)]
fn keep_bodies(bodies: &mut Vec<Vec<u8>>, payload: &[u8]) {
    for _ in 0..200 {
        bodies.push(payload.to_vec()); // @site rust_vec
    }
}

#[inline(never)]
fn cache_responses(cache: &mut HashMap<u64, Vec<u8>>) {
    for key in 0..200u64 {
        cache.insert(key, vec![7u8; 500]); // @site rust_map
    }
}

#[inline(never)]
fn make_nodes(nodes: &mut Vec<Box<Node>>) {
    for index in 0..1000u64 {
        nodes.push(Box::new(Node { value: index, weights: [0.5; 8] })); // @site rust_box
    }
}

/// Growth past capacity is std's own out-of-line call (RawVec's grow_one and
/// finish_grow, which reallocate), not code inlined into this line.
#[inline(never)]
fn fill_numbers(numbers: &mut Vec<u64>) {
    for index in 0..1000u64 {
        numbers.push(index * 3); // @site rust_grow
    }
}

fn main() {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    // Everything the scenarios only fill is made before the first snapshot.
    let payload = vec![1u8; 1000];
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(200);
    let mut cache: HashMap<u64, Vec<u8>> = HashMap::with_capacity(200);
    let mut nodes: Vec<Box<Node>> = Vec::with_capacity(1000);
    let mut numbers: Vec<u64> = Vec::new();   // no block until the first push
    if snapshot(b"before\0") != 0 {
        std::process::exit(10);
    }
    match scenario.as_str() {
        "vec" => keep_bodies(&mut bodies, &payload),
        "map" => cache_responses(&mut cache),
        "box" => make_nodes(&mut nodes),
        "grow" => fill_numbers(&mut numbers),
        _ => std::process::exit(2),
    }
    let status = if snapshot(b"after\0") == 0 { 0 } else { 11 };
    // Read what was made, so that none of it is optimized away.
    let sum: u64 = nodes.iter().map(|node| node.value + node.weights[0] as u64).sum::<u64>()
        + bodies.len() as u64 + cache.len() as u64 + numbers.iter().sum::<u64>();
    if sum == u64::MAX {
        println!("{}", sum);
    }
    std::process::exit(status);
}

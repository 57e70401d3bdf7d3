use std::alloc::{alloc_zeroed, dealloc, Layout};

/// A zeroed, 64-byte aligned `f32` buffer for SIMD loads.
pub struct AlignedBuf {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: `AlignedBuf` owns its allocation exclusively; moving it to another thread moves
// that ownership, and nothing else holds the pointer.
unsafe impl Send for AlignedBuf {}

unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    pub fn zeroed(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1) * 4, 64).expect("layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) } as *mut f32;
        Self { ptr, len }
    }

    pub fn as_slice(&self) -> &[f32] {
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.len.max(1) * 4, 64).expect("layout");
        // SAFETY: `ptr` came from `alloc_zeroed` with this same layout and is freed once.
        unsafe { dealloc(self.ptr as *mut u8, layout) }
    }
}

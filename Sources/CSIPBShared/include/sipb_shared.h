/*
 * sipb_shared.h - the atomic loads, stores and fences the host needs on memory
 * it shares with a Windows process (the shim's ring, docs/PROTOCOL.md). Swift's
 * own atomics live inside Swift values; these work on any aligned address.
 */
#ifndef SIPB_SHARED_H
#define SIPB_SHARED_H

#include <stdint.h>

/// Loads a `u32` with acquire ordering (later reads are not moved before it).
static inline uint32_t sipb_load_acquire_u32(const void *address)
{
    return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}

/// Stores a `u32` with release ordering (earlier writes are visible before it).
static inline void sipb_store_release_u32(void *address, uint32_t value)
{
    __atomic_store_n((uint32_t *)address, value, __ATOMIC_RELEASE);
}

/// Stores `value` and returns what was there, atomically, with full ordering.
static inline uint32_t sipb_exchange_u32(void *address, uint32_t value)
{
    return __atomic_exchange_n((uint32_t *)address, value, __ATOMIC_SEQ_CST);
}

/// A full fence: no load or store moves across it in either direction.
static inline void sipb_fence_seq_cst(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif

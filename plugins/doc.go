// Package plugins runs kernel backends out of process. Serve serves any
// backends.Backend from a plugin binary over hashicorp/go-plugin (gRPC);
// Client, returned by Start, is the host side and is itself a
// backends.Backend. Importing the package registers two backend names:
//
//	plugin:PATH  the plugin binary at PATH (e.g. plugin:bin/keen-backend-cpu)
//	cuda         the keen-backend-cuda binary, found next to the running
//	             executable, in bin/ of the module holding the working
//	             directory, or on PATH; "cuda:N" picks device N
//
// `make plugins` builds bin/keen-backend-cpu (the in-tree CPU backend, so
// the whole path is testable without a GPU) and bin/keen-backend-cuda.
//
// # Protocol
//
// internal/pluginpb/backend.proto is the protocol. A go-plugin call costs
// 0.1-0.3 ms, so the host does not call once per op:
//
//   - Work is queued. FromHost, Kernel.Run and Release append commands to a
//     batch and return at once; buffers are ids the host assigns, so Run
//     hands back handles before the plugin has seen the op. A batch is sent
//     (Exec) when it holds 512 commands or 64 MiB of uploads, or when the
//     host needs an answer: ToHost, Sync, or the shape of a pending buffer.
//     One batch is in flight while the next fills.
//   - The plugin runs a batch in order. A failing command does not stop it:
//     the failure is reported with the command's index, later commands that
//     use its outputs fail naming it, and the host raises the first failure
//     at the next Sync (ToHost of an affected buffer returns it at once).
//     Messages name the op and node, as the backend's own errors do. A panic
//     in a kernel is such a failure; the plugin keeps running.
//   - Prepare asks the plugin at once, so that ErrNotImplemented reaches
//     eager's CPU fallback; ops and dtypes missing from the plugin's
//     Capabilities fail without a round trip. For a plugin serving the CPU
//     backend, Prepare is queued with the ops instead (its errors would
//     only meet the same CPU kernels in the fallback).
//   - Bulk data goes through shared memory: the host creates a memfd, the
//     plugin inherits it (exec.Cmd.ExtraFiles, fd 3, named by
//     $KEEN_PLUGIN_SHM_FD), both map it, and either side grows it when a
//     batch needs more. Tensors under 16 KiB, and strings, travel inside the
//     messages. gRPC's message limits are raised to 2 GiB on both sides for
//     what still travels inline (no shared memory, or outside Linux).
//   - Remote buffers are freed by Release, or when the host's handle is
//     garbage collected (runtime.AddCleanup); frees ride with the next
//     batch. Kernels are dropped the same way. Since handles are small, the host forces a collection after
//     every 1 GiB of plugin-side outputs.
//
// # Dtypes and shapes of queued outputs
//
// A Buf returned by Run knows its dtype and shape at once when the host can
// tell: from ir.InferOutputs over what it knows of the inputs (dtypes,
// shapes, and the values of small integer tensors it uploaded itself, so
// Reshape, Slice or Expand by a shape tensor are covered), from the dtypes
// a kernel produced on an earlier run, or from the op's schema (an output
// sharing a type parameter with an input, a single allowed type, a "to" or
// "dtype" attribute). The plugin's answer is checked against every such
// guess, and a mismatch is an error. What stays unknown is lazy: Shape (or
// DType) sends the queued work and waits for the plugin to report it, so
// data-dependent shapes (NonZero, TopK by a computed k, a Reshape by a
// computed shape) cost a round trip. A buffer whose op failed reports a nil
// (or the guessed) shape; its error comes from ToHost or Sync.
//
// # Faults
//
// Every call has a deadline (DefaultTimeout, or $KEEN_PLUGIN_TIMEOUT). A
// plugin that crashes, is killed, or misses the deadline (then it is
// stopped) turns every later call into an error wrapping ErrDied, naming
// the plugin and how it ended ("the plugin process ended (signal: killed)
// during Exec"); the host process goes on. To continue, open it again
// (backends.Forget then backends.Open) or move to another backend. A plugin
// built for another protocol version is refused by go-plugin's handshake
// ("... speaks protocol version 2, this host speaks 1: rebuild the plugin");
// a binary started by hand says it is a plugin (magic cookie). A plugin
// whose backend cannot open (no driver) answers with the reason, which
// Start returns as an *InitError. A plugin exits when its host dies.
//
// # Measured (2-core Xeon VM shared with other work, load average 10-40;
// numbers vary with load)
//
// Conformance, `onnxrun conformance` over /work/shared/onnx-backend-tests,
// cpu and plugin:bin/keen-backend-cpu run alternately: both pass the same
// 1933 of 1942 cases. Over 14 pairs the plugin took 0.45-1.22x the wall
// time of the in-process CPU (median about 0.7x; cpu 1.6-4.5 s, plugin
// 1.4-2.9 s): model decoding and result checks in the host overlap with the
// kernels in the plugin process, and the few round trips per case (queued
// Prepare, one batch, one read per output) cost less than that gains.
//
// Batched op rate (BenchmarkBatchedAddPlugin, a chain of float32[4] Adds,
// one Sync): 190,000-315,000 ops/s, 3-5 µs per op, against 1.4-2.4 million
// ops/s for the same kernel in process. A round trip (one op and a read,
// BenchmarkRoundTrip) takes 0.09-0.14 ms. Moving 64 MiB to the plugin and
// back (BenchmarkUpload64MiB) runs at 1.0-1.7 GB/s through shared memory
// and 0.1-0.5 GB/s inline.
package plugins

// Package freeport picks loopback ports for processes that a test or the
// benchmark starts and that must be told their ports in advance (a
// cluster's members list, a restart on the same address).
//
// A port picked here lies below the kernel's ephemeral range, so no
// outgoing connection of any process on the machine can take it between
// the pick and the child's bind, as one could take a port the kernel handed
// out for ":0". Each pick is checked free for TCP and UDP, with every
// companion port at the given offsets, and never repeats a port the caller
// already took.
package freeport

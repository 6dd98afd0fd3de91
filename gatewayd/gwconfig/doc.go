// Package gwconfig is the gateway's declarative configuration document: its
// types (Document and the structs it holds), the YAML parser that fills
// defaults, and the validation that rejects a whole document with errors
// naming each problem's path in it.
package gwconfig

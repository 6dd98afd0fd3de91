package cached

import (
	"bytes"
	"crypto/subtle"
)

// redisVersion is the redis-server version cached answers as (INFO, HELLO).
const redisVersion = "7.0.0"

// errHelloNoAuth is redis-server 7's answer to HELLO before AUTH.
const errHelloNoAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"

// cmdHello is HELLO [protover [AUTH user pass] [SETNAME name]]. cached
// speaks RESP2 only: protover 2 (or none) answers redis-server's map as a
// flat array, any other version NOPROTO. AUTH follows cmdAuth's rules
// (--resp-password); SETNAME is CLIENT SETNAME's.
func cmdHello(x *execCtx, a [][]byte) {
	i := 1
	if len(a) > 1 {
		v, ok := parseInt(a[1])
		if !ok {
			x.w.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v != 2 {
			x.w.Error("NOPROTO unsupported protocol version")
			return
		}
		i = 2
	}
	var user, pass, name []byte
	for ; i < len(a); i++ {
		switch {
		case equalFold(a[i], "auth") && i+2 < len(a):
			user, pass = a[i+1], a[i+2]
			i += 2
		case equalFold(a[i], "setname") && i+1 < len(a):
			name = a[i+1]
			i++
		default:
			x.w.Error("ERR Syntax error in HELLO option '" + string(a[i]) + "'")
			return
		}
	}
	if user != nil {
		want := x.s.cfg.RESPPassword
		if string(user) != "default" || want != "" && subtle.ConstantTimeCompare(pass, []byte(want)) != 1 {
			x.w.Error(errWrongPass)
			return
		}
		x.noauth = false
	}
	if x.noauth {
		x.w.Error(errHelloNoAuth)
		return
	}
	if name != nil {
		if bytes.ContainsAny(name, " \n") {
			x.w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		x.name = string(name)
	}
	x.w.ArrayHeader(14)
	x.w.BulkString("server")
	x.w.BulkString("redis")
	x.w.BulkString("version")
	x.w.BulkString(redisVersion)
	x.w.BulkString("proto")
	x.w.Integer(2)
	x.w.BulkString("id")
	x.w.Integer(x.id)
	x.w.BulkString("mode")
	x.w.BulkString("standalone")
	x.w.BulkString("role")
	x.w.BulkString("master")
	x.w.BulkString("modules")
	x.w.ArrayHeader(0)
}

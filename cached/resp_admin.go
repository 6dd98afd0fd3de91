package cached

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// subcommandArity writes Redis's arity error for a subcommand ("client|kill").
func (x *execCtx) subcommandArity(cmd string, sub []byte) {
	x.w.Error("ERR wrong number of arguments for '" + cmd + "|" + strings.ToLower(string(sub)) + "' command")
}

// cmdClient answers the CLIENT subcommands clients send: SETNAME, GETNAME,
// ID, INFO, LIST, SETINFO (LIB-NAME, LIB-VER), NO-EVICT, NO-TOUCH, REPLY ON
// and KILL; others get Redis's unknown-subcommand error. Connections are
// not registered for killing, so CLIENT KILL finds no client.
func cmdClient(x *execCtx, a [][]byte) {
	sub := a[1]
	want := func(n int) bool { // exact arity of the subcommand
		if len(a) != n {
			x.subcommandArity("client", sub)
			return false
		}
		return true
	}
	switch {
	case equalFold(sub, "setname"):
		if !want(3) {
			return
		}
		for _, c := range a[2] {
			if c < '!' || c > '~' {
				x.w.Error("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
		}
		x.name = string(a[2])
		x.w.SimpleString("OK")
	case equalFold(sub, "getname"):
		if !want(2) {
			return
		}
		if x.name == "" {
			x.w.NullBulk()
			return
		}
		x.w.BulkString(x.name)
	case equalFold(sub, "id"):
		if want(2) {
			x.w.Integer(x.id)
		}
	case equalFold(sub, "info"), equalFold(sub, "list"):
		x.w.BulkString(fmt.Sprintf("id=%d addr=%s name=%s db=0\n", x.id, x.addr, x.name))
	case equalFold(sub, "setinfo"):
		if !want(4) {
			return
		}
		if !equalFold(a[2], "lib-name") && !equalFold(a[2], "lib-ver") {
			x.w.Error("ERR Unrecognized option '" + string(a[2]) + "'")
			return
		}
		x.w.SimpleString("OK")
	case equalFold(sub, "no-evict"), equalFold(sub, "no-touch"):
		if !want(3) {
			return
		}
		if !equalFold(a[2], "on") && !equalFold(a[2], "off") {
			x.w.Error(errSyntax)
			return
		}
		x.w.SimpleString("OK")
	case equalFold(sub, "reply"):
		if !want(3) {
			return
		}
		if !equalFold(a[2], "on") {
			x.w.Error(errSyntax) // OFF and SKIP are not supported
			return
		}
		x.w.SimpleString("OK")
	case equalFold(sub, "kill"):
		clientKill(x, a)
	default:
		x.w.Error("ERR unknown subcommand '" + string(sub) + "'. Try CLIENT HELP.")
	}
}

// clientKill parses CLIENT KILL as redis-server 7.0 does: the old form
// (an address) answers "No such client", the new form (option value pairs)
// the number of clients killed, here always 0.
func clientKill(x *execCtx, a [][]byte) {
	switch {
	case len(a) < 3:
		x.subcommandArity("client", a[1])
		return
	case len(a) == 3:
		x.w.Error("ERR No such client")
		return
	}
	for i := 2; i < len(a); i += 2 {
		if i+1 >= len(a) {
			x.w.Error(errSyntax)
			return
		}
		opt, v := a[i], a[i+1]
		switch {
		case equalFold(opt, "id"):
			if n, ok := parseInt(v); !ok || n <= 0 {
				x.w.Error("ERR client-id should be greater than 0")
				return
			}
		case equalFold(opt, "type"):
			if !equalFold(v, "normal") && !equalFold(v, "master") && !equalFold(v, "replica") &&
				!equalFold(v, "slave") && !equalFold(v, "pubsub") {
				x.w.Error("ERR Unknown client type '" + string(v) + "'")
				return
			}
		case equalFold(opt, "skipme"):
			if !equalFold(v, "yes") && !equalFold(v, "no") {
				x.w.Error(errSyntax)
				return
			}
		case equalFold(opt, "addr"), equalFold(opt, "laddr"), equalFold(opt, "user"):
		default:
			x.w.Error(errSyntax)
			return
		}
	}
	x.w.Integer(0)
}

// configParams are the parameters CONFIG GET reports (name, value).
func (x *execCtx) configParams() []string {
	return []string{
		"save", "",
		"appendonly", "no",
		"databases", "1",
		"maxmemory", strconv.FormatInt(x.s.cfg.MaxMemory, 10),
		"maxmemory-policy", x.s.policy().String(),
		"maxclients", strconv.Itoa(x.s.cfg.RESPMaxClients),
		"proto-max-bulk-len", strconv.Itoa(x.s.cfg.RESPMaxBulk),
	}
}

// cmdConfig answers CONFIG GET with the few parameters clients and
// redis-benchmark ask for (an empty list for others) and RESETSTAT with OK.
// CONFIG SET changes nothing: settings are flags, fixed while a node runs,
// so it refuses the parameters CONFIG GET reports and answers others as
// Redis answers an unknown one.
func cmdConfig(x *execCtx, a [][]byte) {
	sub := a[1]
	switch {
	case equalFold(sub, "get"):
		if len(a) < 3 {
			x.subcommandArity("config", sub)
			return
		}
		params := x.configParams()
		var out []string
		for i := 0; i < len(params); i += 2 {
			for _, pat := range a[2:] {
				if ok, _ := path.Match(strings.ToLower(string(pat)), params[i]); ok {
					out = append(out, params[i], params[i+1])
					break
				}
			}
		}
		x.w.ArrayHeader(len(out))
		for _, s := range out {
			x.w.BulkString(s)
		}
	case equalFold(sub, "set"):
		if len(a) < 4 || len(a)%2 != 0 {
			x.subcommandArity("config", sub)
			return
		}
		params := x.configParams()
		for i := 2; i < len(a); i += 2 {
			name := strings.ToLower(string(a[i]))
			known := false
			for j := 0; j < len(params); j += 2 {
				known = known || params[j] == name
			}
			if !known {
				x.w.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + string(a[i]) + "'")
				return
			}
		}
		x.w.Error("ERR CONFIG SET failed (possibly related to argument '" + string(a[2]) +
			"') - cached settings are fixed while a node runs; restart it with the flag")
	case equalFold(sub, "resetstat"):
		if len(a) != 2 {
			x.subcommandArity("config", sub)
			return
		}
		x.w.SimpleString("OK")
	case equalFold(sub, "rewrite"):
		x.w.Error("ERR CONFIG REWRITE is not supported: cached has no configuration file to rewrite")
	default:
		x.w.Error("ERR unknown subcommand '" + string(sub) + "'. Try CONFIG HELP.")
	}
}

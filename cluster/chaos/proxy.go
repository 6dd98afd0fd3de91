package chaos

import (
	"errors"

	"cairn.dev/cairn/cluster/faultproxy"
)

// startClientProxies puts an in-process fault proxy in front of every node's
// gRPC address and records them for Env.Via. It returns a function that closes
// them.
func startClientProxies(env *Env) (func(), error) {
	var proxies []*faultproxy.Proxy
	closeAll := func() {
		for _, p := range proxies {
			_ = p.Close()
		}
	}
	env.vias = map[string]string{}
	env.proxies = map[string]*faultproxy.Proxy{}
	for i, name := range env.Nodes() {
		n, ok := env.Node(name)
		if !ok {
			closeAll()
			return nil, errors.New("chaos: node vanished: " + name)
		}
		p, err := faultproxy.Listen("127.0.0.1:0", n.GRPCAddr, faultproxy.Options{
			Seed:   env.Seed + uint64(i),
			Logger: env.Logger.With("client-proxy", name),
		})
		if err != nil {
			closeAll()
			return nil, err
		}
		proxies = append(proxies, p)
		env.vias[name] = p.Addr()
		env.proxies[name] = p
		env.Logger.Info("chaos: client proxy", "node", name, "listen", p.Addr(), "target", n.GRPCAddr)
	}
	return closeAll, nil
}

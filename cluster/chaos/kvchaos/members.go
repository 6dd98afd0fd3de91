package kvchaos

import (
	"context"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/raftkv/client"
)

// members is the chaos.Membership of raftkv: its cluster service, through the
// raftkv client.
type members struct {
	cl *client.Client
}

// Membership dials the raftkv membership client of FaultMemberReplace
// (chaos.Scenario.Membership) over endpoints, with a 5s request timeout.
func Membership(env *chaos.Env, endpoints []string) (chaos.Membership, error) {
	cl, err := NewClient(env, 5*time.Second, endpoints...)
	if err != nil {
		return nil, err
	}
	return members{cl: cl}, nil
}

// Members implements chaos.Membership.
func (m members) Members(ctx context.Context) ([]string, error) {
	list, err := m.cl.MemberList(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list.GetMembers()))
	for _, mb := range list.GetMembers() {
		ids = append(ids, mb.GetId())
	}
	return ids, nil
}

// Add implements chaos.Membership: it adds id as a voter.
func (m members) Add(ctx context.Context, id, addr string) error {
	_, err := m.cl.MemberAdd(ctx, id, addr, false)
	return err
}

// Remove implements chaos.Membership.
func (m members) Remove(ctx context.Context, id string) error {
	_, err := m.cl.MemberRemove(ctx, id)
	return err
}

// Close implements chaos.Membership.
func (m members) Close() error { return m.cl.Close() }

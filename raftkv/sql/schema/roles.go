package schema

import (
	"context"
	"encoding/json"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Role is a role (user) as stored under r/<name>.
type Role struct {
	Name      string `json:"name"`
	Login     bool   `json:"login"`
	Superuser bool   `json:"superuser"`
	// Secret is the SCRAM-SHA-256 verifier in RFC 5803 form
	// ("SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"), "" for none.
	Secret string `json:"secret,omitempty"`
}

// SecretFunc turns a clear-text password into the stored SCRAM secret (the
// engine passes pgwire.NewSCRAMSecret; schema does not import pgwire).
type SecretFunc func(password string) (string, error)

// scramPrefix marks a password that is already a SCRAM secret; it is stored
// as given, as PostgreSQL does.
const scramPrefix = "SCRAM-SHA-256$"

func roleKey(name string) []byte { return []byte(rolePrefix + name) }

// GetRole reads role name in txn.
func GetRole(ctx context.Context, txn *kvtxn.Txn, name string) (*Role, bool, error) {
	b, found, err := txn.Get(ctx, roleKey(name))
	if err != nil || !found {
		return nil, false, err
	}
	var r Role
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, false, corrupt(string(roleKey(name)), err)
	}
	return &r, true, nil
}

// Roles returns every role, sorted by name.
func Roles(ctx context.Context, txn *kvtxn.Txn) ([]Role, error) {
	var out []Role
	start := []byte(rolePrefix)
	err := txn.Scan(ctx, start, prefixEnd(start), 0, func(kv kvtxn.KV) (bool, error) {
		var r Role
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return false, corrupt(string(kv.Key), err)
		}
		out = append(out, r)
		return true, nil
	})
	return out, err
}

// RoleSecret returns the SCRAM secret of role name; ok is false when the
// role does not exist, cannot log in, or has no password (pgwire then fails
// the authentication with 28P01).
func RoleSecret(ctx context.Context, txn *kvtxn.Txn, name string) (secret string, ok bool, err error) {
	r, found, err := GetRole(ctx, txn, name)
	if err != nil || !found || !r.Login || r.Secret == "" {
		return "", false, err
	}
	return r.Secret, true, nil
}

// PutRole writes r as is (bootstrap of the first superuser by the server).
func PutRole(txn *kvtxn.Txn, r Role) error {
	if err := checkIdent("role", r.Name); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return sqlerr.Wrap(sqlerr.Internal, err, "encoding role %q: %v", r.Name, err)
	}
	return txnErr(txn.Put(roleKey(r.Name), b))
}

// CreateRole creates a role: CREATE USER logs in by default, CREATE ROLE
// does not. hash computes the secret of a PASSWORD given in clear (a
// password that already is a SCRAM secret is stored as given); hash may be
// nil when no password is given. 42710 when the role exists (nil with IF
// NOT EXISTS), 42939 for reserved names (public, pg_*).
func CreateRole(ctx context.Context, txn *kvtxn.Txn, stmt *ast.CreateRole, hash SecretFunc) error {
	if err := checkRoleName(stmt.Name); err != nil {
		return err
	}
	if _, found, err := GetRole(ctx, txn, stmt.Name); err != nil {
		return err
	} else if found {
		if stmt.IfNotExists {
			return nil
		}
		return sqlerr.New(sqlerr.DuplicateObject, "role \"%s\" already exists", stmt.Name)
	}
	r := Role{Name: stmt.Name, Login: stmt.User}
	if err := applyRoleOptions(&r, stmt.Options, hash); err != nil {
		return err
	}
	return PutRole(txn, r)
}

// AlterRole changes the options given (42704 when the role does not exist).
func AlterRole(ctx context.Context, txn *kvtxn.Txn, stmt *ast.AlterRole, hash SecretFunc) error {
	r, found, err := GetRole(ctx, txn, stmt.Name)
	if err != nil {
		return err
	}
	if !found {
		return sqlerr.New(sqlerr.UndefinedObject, "role \"%s\" does not exist", stmt.Name)
	}
	if err := applyRoleOptions(r, stmt.Options, hash); err != nil {
		return err
	}
	return PutRole(txn, *r)
}

// DropRole drops the roles named (42704 when one does not exist, unless IF
// EXISTS).
func DropRole(ctx context.Context, txn *kvtxn.Txn, stmt *ast.DropRole) error {
	for _, name := range stmt.Names {
		_, found, err := GetRole(ctx, txn, name)
		if err != nil {
			return err
		}
		if !found {
			if stmt.IfExists {
				continue
			}
			return sqlerr.New(sqlerr.UndefinedObject, "role \"%s\" does not exist", name)
		}
		if err := txn.Delete(roleKey(name)); err != nil {
			return txnErr(err)
		}
	}
	return nil
}

func checkRoleName(name string) error {
	if err := checkIdent("role", name); err != nil {
		return err
	}
	if name == "public" || name == "none" || strings.HasPrefix(name, "pg_") {
		return sqlerr.New(codeReservedName, "role name \"%s\" is reserved", name)
	}
	return nil
}

func applyRoleOptions(r *Role, o ast.RoleOptions, hash SecretFunc) error {
	if o.Login != nil {
		r.Login = *o.Login
	}
	if o.Superuser != nil {
		r.Superuser = *o.Superuser
	}
	switch {
	case o.PasswordNull:
		r.Secret = ""
	case o.Password != nil:
		pw := *o.Password
		switch {
		case strings.HasPrefix(pw, scramPrefix):
			r.Secret = pw
		case pw == "":
			// PostgreSQL: an empty password is treated as NULL.
			r.Secret = ""
		case hash == nil:
			return sqlerr.New(sqlerr.Internal, "role %q: no password hasher", r.Name)
		default:
			s, err := hash(pw)
			if err != nil {
				return err
			}
			r.Secret = s
		}
	}
	return nil
}

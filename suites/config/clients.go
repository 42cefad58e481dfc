package config

import (
	"fmt"
)

// OneOrMany is a client mode's entry: one client (a mapping, the original
// form) or a list of clients, each with its own id and keys or secret. The
// first client of a list is the mode's primary client; the others let one
// target cover clients that differ in what the server pins to them (real
// servers tie one signing algorithm to each private_key_jwt client).
type OneOrMany[T any] []T

// UnmarshalYAML takes a mapping (one client) or a sequence of them.
func (m *OneOrMany[T]) UnmarshalYAML(construct func(any) error) error {
	var probe any
	if err := construct(&probe); err != nil {
		return err
	}
	switch probe.(type) {
	case nil:
		*m = nil
		return nil
	case []any:
		var list []T
		if err := construct(&list); err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("an empty list of clients: give at least one, or leave the mode out")
		}
		*m = list
		return nil
	}
	var one T
	if err := construct(&one); err != nil {
		return err
	}
	*m = OneOrMany[T]{one}
	return nil
}

// MarshalYAML writes one client as a mapping (the form older versions
// read) and several as a list.
func (m OneOrMany[T]) MarshalYAML() (any, error) {
	if len(m) == 1 {
		return m[0], nil
	}
	return []T(m), nil
}

// firstOf is a or, when a is empty, b.
func firstOf[T any](a, b OneOrMany[T]) OneOrMany[T] {
	if len(a) > 0 {
		return a
	}
	return b
}

// indexKey names entry i of a mode's clients in errors: the mode's key
// alone for the single-client form, key[i] for a list.
func indexKey(key string, i, n int) string {
	if n == 1 {
		return key
	}
	return fmt.Sprintf("%s[%d]", key, i)
}

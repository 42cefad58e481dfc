package engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ParseObject decodes a response body as the harness judges it: a JSON
// object, or an error saying what the body is instead.
func ParseObject(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return nil, errors.New("the body is empty")
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("the body is JSON but not an object")
	}
	return obj, nil
}

// JSONType names the JSON type of a decoded value, for messages.
func JSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

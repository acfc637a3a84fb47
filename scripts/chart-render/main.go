// chart-render renders a Helm chart the way `helm template` does, for the tests: Go's
// text/template with sprig's functions and the ones Helm adds (include, tpl, required,
// toYaml, fromYaml, toJson, lookup-free), values merged from values.yaml, -f files and
// --set, checked against values.schema.json. Helm itself is not installable here.
//
//	chart-render [--release NAME] [--namespace NS] [--set a.b=v]... [--set-string a=v]...
//	             [-f values.yaml]... [--api-versions group/version[/Kind]]...
//	             [--include-crds] [--notes] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig/v3"
	"github.com/xeipuuv/gojsonschema"
	yaml "gopkg.in/yaml.v3"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// VersionSet is .Capabilities.APIVersions: Has answers "group/version" and
// "group/version/Kind".
type VersionSet []string

func (v VersionSet) Has(s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", a...)
	os.Exit(1)
}

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return out
}

// merge lays src over dst: maps merge key by key, anything else replaces.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// setValue applies one --set: dotted keys, and Helm's typing of the value (integers,
// booleans, null; strings otherwise) unless asString.
func setValue(values map[string]interface{}, expr string, asString bool) {
	eq := strings.Index(expr, "=")
	if eq < 0 {
		fail("--set %q: want key=value", expr)
	}
	keys := strings.Split(expr[:eq], ".")
	raw := expr[eq+1:]
	var value interface{} = raw
	if !asString {
		if raw == "true" || raw == "false" {
			value = raw == "true"
		} else if raw == "null" {
			value = nil
		} else if n, err := strconv.ParseInt(raw, 10, 64); err == nil && (raw == "0" || !strings.HasPrefix(raw, "0")) {
			value = n
		} else if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			items := []interface{}{}
			for _, s := range strings.Split(strings.Trim(raw, "{}"), ",") {
				if s != "" {
					items = append(items, s)
				}
			}
			value = items
		}
	}
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	var sets, setStrings, files, apiVersions multi
	release := flag.String("release", "vigil", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	includeCRDs := flag.Bool("include-crds", false, "print the chart's crds/ too")
	notes := flag.Bool("notes", false, "print NOTES.txt rendered, not the manifests")
	flag.Var(&sets, "set", "key=value")
	flag.Var(&setStrings, "set-string", "key=value, always a string")
	flag.Var(&files, "f", "a values file")
	flag.Var(&apiVersions, "api-versions", "an API version the cluster serves")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("want one chart directory")
	}
	dir := flag.Arg(0)

	chart := readYAML(filepath.Join(dir, "Chart.yaml"))
	values := readYAML(filepath.Join(dir, "values.yaml"))
	for _, f := range files {
		values = merge(values, readYAML(f))
	}
	for _, s := range sets {
		setValue(values, s, false)
	}
	for _, s := range setStrings {
		setValue(values, s, true)
	}

	if schema, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		// Through JSON, as Helm does, so numbers and maps have JSON's types.
		doc, _ := json.Marshal(values)
		result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(doc))
		if err != nil {
			fail("values.schema.json: %v", err)
		}
		if !result.Valid() {
			msgs := []string{}
			for _, e := range result.Errors() {
				msgs = append(msgs, "- "+e.String())
			}
			fail("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s", chart["name"], strings.Join(msgs, "\n"))
		}
	}

	// Like Helm with a cluster: what it serves (kubectl api-versions); without one, Helm's
	// defaults for a current Kubernetes.
	versions := VersionSet(apiVersions)
	if len(versions) == 0 {
		versions = VersionSet{"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "policy/v1", "coordination.k8s.io/v1"}
	}
	name, _ := chart["name"].(string)
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
			"Description": chart["description"],
		},
		"Capabilities": map[string]interface{}{
			"APIVersions": versions,
			"KubeVersion": map[string]interface{}{"Version": "v1.20.0", "Major": "1", "Minor": "20", "GitVersion": "v1.20.0"},
		},
	}

	root := template.New("gotpl")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	root.Funcs(funcs).Option("missingkey=zero")

	entries, err := os.ReadDir(filepath.Join(dir, "templates"))
	if err != nil {
		fail("%v", err)
	}
	names := []string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		full := name + "/templates/" + e.Name()
		data, err := os.ReadFile(filepath.Join(dir, "templates", e.Name()))
		if err != nil {
			fail("%v", err)
		}
		if _, err := root.New(full).Parse(string(data)); err != nil {
			fail("parse error: %v", err)
		}
		names = append(names, full)
	}
	sort.Strings(names)

	render := func(full string) string {
		t := root.Lookup(full)
		scoped := map[string]interface{}{}
		for k, v := range top {
			scoped[k] = v
		}
		scoped["Template"] = map[string]interface{}{"Name": full, "BasePath": name + "/templates"}
		var buf bytes.Buffer
		if err := t.Execute(&buf, scoped); err != nil {
			fail("execution error: %v", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", "")
	}

	if *notes {
		for _, full := range names {
			if strings.HasSuffix(full, "/NOTES.txt") {
				fmt.Print(render(full))
			}
		}
		return
	}
	var out strings.Builder
	if *includeCRDs {
		crds, _ := filepath.Glob(filepath.Join(dir, "crds", "*.yaml"))
		sort.Strings(crds)
		for _, c := range crds {
			data, err := os.ReadFile(c)
			if err != nil {
				fail("%v", err)
			}
			fmt.Fprintf(&out, "---\n# Source: %s/crds/%s\n%s", name, filepath.Base(c), strings.TrimPrefix(string(data), "---\n"))
		}
	}
	for _, full := range names {
		base := filepath.Base(full)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		text := render(full)
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.Trim(text, "\n"))
	}
	fmt.Print(out.String())
}

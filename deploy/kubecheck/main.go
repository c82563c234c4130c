// Command kubecheck validates rendered Kubernetes manifests offline: every document of each file
// (the output of `helm template`) is decoded strictly into the k8s.io/api type of its
// apiVersion and kind, so an unknown field, a misspelt key or a value of the wrong type fails,
// as the API server's strict field validation would. It then checks the chart's own rules: pods
// run as non-root with a read-only root filesystem, no capabilities and the RuntimeDefault
// seccomp profile; secret variables come from Secret references, never inline values; the
// Deployment has liveness and readiness probes and its selector matches its pods.
//
// Usage: kubecheck NAME=FILE... (NAME labels the file in the summary line).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// types maps "apiVersion/kind" to a constructor of the typed object.
var types = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/Ingress":           func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// secretVars are the variables that must never have an inline value.
var secretVars = map[string]bool{
	"DATABASE_URL": true, "CX_JWT_SECRET": true, "CX_DOWNLOAD_LINK_SECRET": true,
	"CX_S3_ACCESS_KEY": true, "CX_S3_SECRET_KEY": true, "CX_SMTP_PASSWORD": true,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubecheck NAME=FILE...")
		os.Exit(2)
	}
	total := 0
	var parts []string
	failed := false
	for _, arg := range os.Args[1:] {
		name, file, ok := strings.Cut(arg, "=")
		if !ok {
			file, name = arg, arg
		}
		kinds, errs := checkFile(file)
		for _, err := range errs {
			fmt.Fprintf(os.Stderr, "kubecheck: %s: %v\n", file, err)
			failed = true
		}
		n := 0
		var ks []string
		for k, c := range kinds {
			n += c
			ks = append(ks, k)
		}
		sort.Strings(ks)
		total += n
		parts = append(parts, fmt.Sprintf("%s: %d %s", name, n, strings.Join(ks, "/")))
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("%d manifests valid (%s)\n", total, strings.Join(parts, "; "))
}

// checkFile decodes and checks every document of one file; it returns the count per kind.
func checkFile(file string) (map[string]int, []error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{err}
	}
	kinds := map[string]int{}
	var errs []error
	for i, doc := range splitDocuments(raw) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		where := fmt.Sprintf("%s %q", head.Kind, head.Metadata.Name)
		if head.Kind == "Secret" {
			errs = append(errs, fmt.Errorf("%s: the chart must not render Secrets (secrets come from existing Secrets)", where))
			continue
		}
		mk, ok := types[head.APIVersion+"/"+head.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: apiVersion %q kind %q is not a known Kubernetes type", where, head.APIVersion, head.Kind))
			continue
		}
		obj := mk()
		// UnmarshalStrict: JSON decoding with DisallowUnknownFields, duplicate keys refused.
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if head.Metadata.Name == "" {
			errs = append(errs, fmt.Errorf("document %d (%s): no metadata.name", i+1, head.Kind))
		}
		for _, err := range policy(obj) {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		kinds[head.Kind]++
	}
	if len(kinds) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no manifests"))
	}
	return kinds, errs
}

// splitDocuments cuts a multi-document YAML stream at its "---" lines and drops empty documents.
func splitDocuments(raw []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if t := bytes.TrimRight(line, " \r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// policy checks the chart's rules on the typed object.
func policy(obj any) []error {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		errs := podPolicy(&o.Spec.Template.Spec, true)
		sel, err := metav1Selector(o.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(labels.Set(o.Spec.Template.Labels)) {
			errs = append(errs, errors.New("spec.selector does not match the pod template's labels"))
		}
		return errs
	case *batchv1.Job:
		return podPolicy(&o.Spec.Template.Spec, false)
	case *policyv1.PodDisruptionBudget:
		if o.Spec.Selector == nil || len(o.Spec.Selector.MatchLabels) == 0 {
			return []error{errors.New("no selector")}
		}
	case *corev1.Service:
		if len(o.Spec.Selector) == 0 {
			return []error{errors.New("no selector")}
		}
	}
	return nil
}

func metav1Selector(m map[string]string) (labels.Selector, error) {
	if len(m) == 0 {
		return nil, errors.New("empty selector")
	}
	return labels.SelectorFromSet(m), nil
}

func podPolicy(p *corev1.PodSpec, server bool) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	psc := p.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		fail("pod securityContext.runAsNonRoot is not true")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail("pod seccompProfile is not RuntimeDefault")
	}
	if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
		fail("automountServiceAccountToken is not false")
	}
	if len(p.Containers) == 0 {
		fail("no containers")
	}
	for _, c := range p.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			fail("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			fail("container %s: capabilities do not drop ALL", c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			fail("container %s: no cpu request or memory limit", c.Name)
		}
		seen := map[string]bool{}
		for _, e := range c.Env {
			if seen[e.Name] {
				fail("container %s: %s is set twice", c.Name, e.Name)
			}
			seen[e.Name] = true
			if secretVars[e.Name] && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				fail("container %s: %s must come from a secretKeyRef, not an inline value", c.Name, e.Name)
			}
		}
		for _, need := range []string{"DATABASE_URL", "CX_JWT_SECRET"} {
			if !seen[need] {
				fail("container %s: %s is not set", c.Name, need)
			}
		}
		if server {
			if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet == nil {
				fail("container %s: needs HTTP liveness and readiness probes", c.Name)
			} else if c.LivenessProbe.HTTPGet.Path == c.ReadinessProbe.HTTPGet.Path {
				fail("container %s: liveness and readiness probe the same path %s", c.Name, c.LivenessProbe.HTTPGet.Path)
			}
		}
	}
	return errs
}

// Package docker holds the offline checks of the container and Kubernetes
// files of repdyn: the JupyterLab image (Dockerfile), the Zero to JupyterHub
// values (z2jh/values.yaml) and the training Job (k8s/train-job.yaml). It is
// a separate module so that the Kubernetes API types stay out of the
// library's and the notebook helpers' dependencies.
package docker

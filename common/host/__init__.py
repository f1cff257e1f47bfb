"""What the host agents share for touching their host: the command runner
(cmd), qemu-img and disk files (disk), the download and verification of an
image from the image service (images) and the errors these raise
(exception). The compute agent and the volume service both use them; this
package imports nothing from any service.
"""

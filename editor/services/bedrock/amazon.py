"""Amazon Nova Canvas and Titan Image Generator v2: {taskType, <params>, imageGenerationConfig}."""

from __future__ import annotations

import io

from PIL import Image

from editor.services.bedrock.adapter import ModelAdapter, ModelAnswer, mask_bw
from editor.services.bedrock.runtime import b64, content_filtered, invalid_for_model, model_error
from editor.services.bedrock.tasks import EditSpec
from editor.services.imaging.images import rgb_png_or_original


class TaskTypeAdapter(ModelAdapter):
    """The request shape both families share; each subclass sets its limits and sizes."""

    max_images = 5
    prompt_limit = 1024
    max_seed = 2_147_483_646
    formats = ("png", "jpeg")
    default_models: dict[str, str] = {}

    def needs_prompt(self, task: str) -> bool:
        # These models fill a masked area without text (inpaint), but outpainting needs one.
        return task in ("replace", "generate", "outpaint")

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        if spec.rule.mask and spec.mask is None:
            raise invalid_for_model(f"{self.label} needs a mask for '{spec.task}': paint the area to change.")
        if spec.image is not None:
            self.check_size(*self._input_size(spec))

    def check_size(self, width: int, height: int) -> None:
        raise NotImplementedError

    @staticmethod
    def _input_size(spec: EditSpec) -> tuple[int, int]:
        image = spec.image
        return image.width + spec.left + spec.right, image.height + spec.up + spec.down

    def _config(self, spec: EditSpec) -> dict:
        config: dict = {"numberOfImages": spec.count, "quality": "standard"}
        if spec.seed is not None:
            config["seed"] = spec.seed
        return config

    def _image(self, spec: EditSpec) -> str:
        """The image as these models take it: PNG or JPEG, 8-bit RGB, no transparency (flattened on white)."""
        return b64(rgb_png_or_original(spec.image, formats=self.formats))

    def _outpaint_canvas(self, spec: EditSpec) -> tuple[str, str]:
        """Pad the image by the margins and build the mask of the new area, in this model's colours."""
        # Transparency becomes white, as everywhere these models get an image.
        with Image.open(io.BytesIO(rgb_png_or_original(spec.image, formats=("png",)))) as source:
            rgb = source.convert("RGB")
        width, height = self._input_size(spec)
        canvas = Image.new("RGB", (width, height), (127, 127, 127))
        canvas.paste(rgb, (spec.left, spec.up))
        change, keep = self.outpaint_colours
        mask = Image.new("L", (width, height), change)
        mask.paste(keep, (spec.left, spec.up, spec.left + rgb.width, spec.up + rgb.height))
        image_out, mask_out = io.BytesIO(), io.BytesIO()
        canvas.save(image_out, "PNG")
        mask.save(mask_out, "PNG")
        return b64(image_out.getvalue()), b64(mask_out.getvalue())

    outpaint_colours = (255, 0)  # (change, keep)

    def body(self, spec: EditSpec) -> dict:
        task = spec.task
        if task == "remove_background":
            return {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": self._image(spec)}}
        if task == "generate":
            params = {"text": spec.prompt}
            if spec.negative_prompt:
                params["negativeText"] = spec.negative_prompt
            width, height = self.generate_size(spec.aspect_ratio)
            return {
                "taskType": "TEXT_IMAGE",
                "textToImageParams": params,
                "imageGenerationConfig": {**self._config(spec), "width": width, "height": height},
            }
        if task == "outpaint":
            image, mask = self._outpaint_canvas(spec)
            params = {"image": image, "maskImage": mask, "text": spec.prompt, "outPaintingMode": "DEFAULT"}
            if spec.negative_prompt:
                params["negativeText"] = spec.negative_prompt
            return {
                "taskType": "OUTPAINTING",
                "outPaintingParams": params,
                "imageGenerationConfig": self._config(spec),
            }
        params = {"image": self._image(spec)}
        if task == "replace":
            params["maskPrompt"] = spec.search_prompt
        else:
            # Inpainting on these models: black = change (the opposite of the app's convention).
            params["maskImage"] = b64(mask_bw(spec.mask, change_is_black=True))
        if task != "erase" and spec.prompt:
            params["text"] = spec.prompt  # no text: the model fills the area with background (erase)
        if task != "erase" and spec.negative_prompt:
            params["negativeText"] = spec.negative_prompt
        return {
            "taskType": "INPAINTING",
            "inPaintingParams": params,
            "imageGenerationConfig": self._config(spec),
        }

    # Text-to-image output sizes by aspect ratio (each model documents its own list).
    generate_sizes = {
        "1:1": (1024, 1024),
        "16:9": (1280, 720),
        "21:9": (1344, 576),
        "2:3": (832, 1248),
        "3:2": (1248, 832),
        "4:5": (896, 1120),
        "5:4": (1120, 896),
        "9:16": (720, 1280),
        "9:21": (576, 1344),
    }

    def generate_size(self, aspect_ratio: str) -> tuple[int, int]:
        return self.generate_sizes.get(aspect_ratio, (1024, 1024))

    def parse(self, payload: dict, spec: EditSpec) -> ModelAnswer:
        images = payload.get("images") or []
        error = payload.get("error")
        if not images:
            if error:
                raise content_filtered(str(error))
            raise model_error("The model returned no image. Try again.")
        filtered = max(0, spec.count - len(images)) if spec.task != "remove_background" else 0
        # These models return no per-image seeds; the request's seed stays in the edit's parameters.
        return ModelAnswer(images=images, seeds=[None] * len(images), filtered=filtered)


class NovaCanvasAdapter(TaskTypeAdapter):
    family = "nova"
    label = "Amazon Nova Canvas"
    legacy = True
    prompt_limit = 1024
    # The doc copy says 2,147,483,646, AWS's own SDK examples use 858,993,459: take the stricter.
    max_seed = 858_993_459
    default_models = {
        task: "amazon.nova-canvas-v1:0"
        for task in ("inpaint", "erase", "outpaint", "remove_background", "replace", "generate")
    }

    def check(self, spec: EditSpec) -> None:
        super().check(spec)
        if (
            spec.task in ("replace", "generate", "outpaint", "inpaint")
            and spec.prompt
            and not spec.prompt.strip()
        ):
            raise invalid_for_model("Nova Canvas needs 1 to 1,024 characters of prompt.")

    def check_size(self, width: int, height: int) -> None:
        if not (320 <= width <= 4096 and 320 <= height <= 4096):
            raise invalid_for_model("Nova Canvas needs each side between 320 and 4,096 pixels.")
        if width * height >= 4_194_304:
            raise invalid_for_model("Nova Canvas needs fewer than 4,194,304 pixels.")
        if width % 16 or height % 16:
            raise invalid_for_model(
                f"Nova Canvas needs sides divisible by 16; this image is {width}x{height}."
            )
        if not 1 / 4 <= width / height <= 4:
            raise invalid_for_model("Nova Canvas needs an aspect ratio between 1:4 and 4:1.")


class TitanImageAdapter(TaskTypeAdapter):
    family = "titan"
    label = "Amazon Titan Image Generator v2"
    legacy = True
    prompt_limit = 512
    default_models = {
        task: "amazon.titan-image-generator-v2:0"
        for task in ("inpaint", "erase", "outpaint", "remove_background", "replace", "generate")
    }
    # Titan's outpainting mask marks the region to keep in black; everything white is regenerated.
    outpaint_colours = (255, 0)

    def check_size(self, width: int, height: int) -> None:
        if max(width, height) > 1408:
            raise invalid_for_model(
                "Titan Image Generator takes images up to 1,408 pixels on the longer side."
            )

    generate_sizes = {
        "1:1": (1024, 1024),
        "16:9": (1280, 768),
        "3:2": (1152, 768),
        "2:3": (768, 1152),
        "9:16": (768, 1280),
        "5:4": (1152, 896),
        "4:5": (896, 1152),
        "21:9": (1408, 640),
        "9:21": (640, 1408),
    }

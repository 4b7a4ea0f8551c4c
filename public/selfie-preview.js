// Shows the photo a student chose on the check-in form before it is sent. The form works
// without this script; it only adds the preview. A photo chosen before the script ran (it
// loads after the page) is shown at once.
for (const input of document.querySelectorAll('input[data-preview]')) {
  const img = document.getElementById(input.dataset.preview);
  let url = null;
  const show = () => {
    if (url) URL.revokeObjectURL(url);
    const file = input.files && input.files[0];
    url = file ? URL.createObjectURL(file) : null;
    if (url) img.src = url;
    img.hidden = !url;
  };
  input.addEventListener('change', show);
  show();
}
